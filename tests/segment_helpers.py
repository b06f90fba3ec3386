"""Build segments from plain data in tests (and the demo)."""

from wagtail_journey.models import Segment


def r(type_, negate=False, **value):
    return {"type": type_, "value": {**value, "negate": negate}}


def group(*rules, match="all"):
    return {"type": "group", "value": {"match": match, "rules": list(rules)}}


def make_segment(name, *groups, match="all", **kw):
    return Segment.objects.create(name=name, match=match, rules=list(groups), **kw)

"""The package's admin URLs, read from the URL resolver (never a hand-written list).

Shared by the permission and CSV-export tests: a URL another module adds later
(a viewset, a report, a chooser, an action) is enumerated without editing them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.resolvers import RegexPattern


@dataclass(frozen=True)
class AdminUrl:
    name: str  # namespaced URL name
    url: str  # with real object ids filled in
    model: type | None  # the model its ids point at (None without ids)
    has_args: bool


def _walk(patterns, route="", namespace=None):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
            yield from _walk(p.url_patterns, route + str(p.pattern), ns)
        elif isinstance(p, URLPattern) and p.name:
            name = f"{namespace}:{p.name}" if namespace else p.name
            yield route + str(p.pattern), name, p


def _arg_names(pattern: URLPattern) -> list[str]:
    if isinstance(pattern.pattern, RegexPattern):
        return list(pattern.pattern.regex.groupindex)
    return list(pattern.pattern.converters)


def _model_for(name: str, pattern: URLPattern):
    """The package model a URL's ids refer to, read from its name (or its guard)."""
    models = {m._meta.model_name: m for m in apps.get_app_config("wagtail_journey").get_models()}
    tail = name.split("wagtail_journey", 1)[1]
    for token in re.split(r"[_:]", tail):
        if token in models:
            return models[token]
    return getattr(pattern.callback, "journey_guarded_model", None)


def package_admin_urls(*, require_objects: bool = True) -> list[AdminUrl]:
    """Every admin URL whose name belongs to wagtail_journey, ids filled with existing rows.

    Raises AssertionError naming the model when a URL needs an object and none
    exists: the calling test's fixture must create one (``require_objects=False``
    fills in id 1 instead, for tests that only resolve the URLs).
    """
    result = []
    for route, name, pattern in _walk(get_resolver().url_patterns):
        if not route.startswith("admin/") or "wagtail_journey" not in name:
            continue
        args = _arg_names(pattern)
        model = _model_for(name, pattern) if args else None
        kwargs = {}
        if args:
            assert model is not None, f"{name}: cannot tell which model its ids point at"
            obj = model._default_manager.order_by("pk").first()
            if require_objects:
                assert obj is not None, f"{name}: create a {model.__name__} in the test's fixture"
            kwargs = dict.fromkeys(args, obj.pk if obj is not None else 1)
        result.append(AdminUrl(name, reverse(name, kwargs=kwargs), model, bool(args)))
    return result


#: Personal data of the contact below: no page may show it to a user without permission.
PERSONAL = ("zebulon.quixote@example.com", "Zebulon", "Quixote")


def make_one_of_each(page) -> dict:
    """One row of each model the package's admin URLs point at, with personal data."""
    from datetime import date

    from wagtail.log_actions import log

    from wagtail_journey.identity import get_or_create_contact
    from wagtail_journey.models import (
        ConsentPurpose,
        DailyPageStat,
        FormSubmission,
        LifecycleTransition,
        PageJourneyStage,
        ScoringRule,
        Segment,
        Touchpoint,
    )
    from wagtail_journey.segments import add_static_members

    contact, _ = get_or_create_contact(PERSONAL[0])
    contact.first_name, contact.last_name = PERSONAL[1], PERSONAL[2]
    contact.save()
    log(contact, "wagtail.edit", title="contact")  # the history pages have a row
    submission = FormSubmission.objects.create(
        page=page,
        form_key="f" * 36,
        form_name="Newsletter",
        contact=contact,
        data={"email": PERSONAL[0], "first_name": PERSONAL[1]},
    )
    touchpoint = Touchpoint.objects.create(kind="form_submitted", contact=contact, page=page)
    segment = Segment.objects.create(name="VIP", kind=Segment.Kind.STATIC)
    add_static_members(segment, [contact.pk])
    rule = ScoringRule.objects.create(name="Form", kind="form_submitted", points=5)
    transition = LifecycleTransition.objects.create(stage="lead", min_score=10)
    purpose = ConsentPurpose.objects.create(name="News", key="news", text="<p>News</p>")
    stage = PageJourneyStage.objects.create(page=page, stage="awareness")
    stat = DailyPageStat.objects.create(day=date.today(), page=page, views=3, visitors=2)
    from tests.emails.helpers import make_template
    from wagtail_journey.emails.sending import queue_template
    from wagtail_journey.emails.suppression import suppress
    from wagtail_journey.models import Broadcast

    template = make_template()
    outbound, _ = queue_template(template, contact, idempotency_key="admin-urls")
    suppression, _ = suppress(PERSONAL[0], "editor", "asked by phone")
    broadcast = Broadcast.objects.create(name="News", template=template, segment=segment)
    from tests.flows.helpers import make_flow, send, trigger
    from wagtail_journey.flows.enrol import enrol

    flow = make_flow("Welcome", trigger=trigger("manual"), steps=[send(template)])
    enrol(flow, contact)
    return {
        "contact": contact,
        "submission": submission,
        "touchpoint": touchpoint,
        "segment": segment,
        "rule": rule,
        "transition": transition,
        "purpose": purpose,
        "stage": stage,
        "stat": stat,
        "template": template,
        "outbound": outbound,
        "suppression": suppression,
        "broadcast": broadcast,
        "flow": flow,
    }

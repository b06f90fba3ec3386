"""Segment rule types: a registry other modules extend.

A rule type turns one rule's value (a dict from its StructBlock) into a ``Q``
on Contact made only of the contact's own columns and ``Exists``/``Subquery``
expressions, so a whole segment compiles to one queryset and one contact can
be tested against every segment in one query. Register a new type with::

    from wagtail_journey.segment_rules import RuleType, register_rule_type

    @register_rule_type
    class ConsentRule(RuleType):
        name = "consent"
        label = _("Consent")
        def fields(self): return [("purpose", blocks.CharBlock())]
        def q(self, value): return Q(Exists(...))

(The consent-per-purpose rule is added that way by the consent module.)
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Model,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Now
from django.db.models.lookups import GreaterThanOrEqual
from django.utils.translation import gettext_lazy as _
from wagtail import blocks

from wagtail_journey.events import NOT_MACHINE_MADE
from wagtail_journey.kinds import kind_label
from wagtail_journey.models import JourneyStage, TaggedContact, Touchpoint

PROPERTY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")


class RuleError(Exception):
    """A rule cannot be compiled (deleted page, bad value): shown to editors."""


class RuleType:
    name: str = ""
    label: str = ""

    def fields(self) -> list[tuple[str, blocks.Block]]:
        raise NotImplementedError

    def q(self, value) -> Q:
        raise NotImplementedError

    def describe(self, value) -> str:
        """The rule in words for editors ("Score range: at least 50"); each
        field's label and value as the editor chose it (labels of choices,
        page titles), so registered rule types read well without code."""
        parts = []
        fields = self.fields()
        for name, block in fields:
            raw = value.get(name)
            # A rule's only field needs no label ("Has tag: “vip”").
            label = "" if len(fields) == 1 else str(block.label).lower()
            if name == "within_days" and raw:
                parts.append(_("within the last %(days)s days") % {"days": raw})
            elif name == "kind" and raw:
                parts.append(f"{label} “{kind_label(raw)}”")
            elif raw is True:
                parts.append(label)
            elif text := describe_value(block, raw):
                parts.append(f"{label} {text}".strip())
        text = str(self.label)
        if parts:
            text = _("%(rule)s: %(details)s") % {"rule": text, "details": ", ".join(parts)}
        return _("Not: %(rule)s") % {"rule": text} if value.get("negate") else text

    def block(self) -> blocks.StructBlock:
        return blocks.StructBlock(
            [
                *self.fields(),
                ("negate", blocks.BooleanBlock(required=False, label=_("Not (exclude these)"))),
            ],
            label=self.label,
        )


_rule_types: dict[str, RuleType] = {}


def register_rule_type(cls: type[RuleType]) -> type[RuleType]:
    """Class decorator: make a rule type available to segments (replaces same name)."""
    _rule_types[cls.name] = cls()
    return cls


def rule_types() -> dict[str, RuleType]:
    return dict(_rule_types)


def rules_stream_block() -> blocks.StreamBlock:
    """Groups of rules: each group matches all or any of its rules."""
    rule_blocks = [(name, rt.block()) for name, rt in _rule_types.items()]
    group = blocks.StructBlock(
        [
            (
                "match",
                blocks.ChoiceBlock(
                    choices=[("all", _("all of these rules")), ("any", _("any of these rules"))],
                    default="all",
                    label=_("Contacts match"),
                ),
            ),
            # Optional: a group just added has no rules yet; an empty group is
            # skipped when compiling, not an error (the live count keeps working).
            ("rules", blocks.StreamBlock(rule_blocks, label=_("Rules"), required=False)),
        ],
        label=_("Group of rules"),
    )
    return blocks.StreamBlock([("group", group)])


def describe_value(block: blocks.Block, value) -> str:
    """One field of a rule as text ('' when empty)."""
    if value in (None, "", [], False):
        return ""
    if isinstance(block, blocks.ChoiceBlock | blocks.MultipleChoiceBlock):
        labels = {str(k): str(v) for k, v in block.field.choices}
        values = value if isinstance(value, list | tuple) else [value]
        return ", ".join(labels.get(str(v), str(v)) for v in values)
    if isinstance(value, str | Model):  # text, a page or a snippet: its name, quoted
        return f"“{value}”"
    return str(value)


def describe_rules(rules, match: str) -> list[str]:
    """A segment's groups in words, one line per group."""
    lines = []
    for group in rules or []:
        value = group.value
        texts = []
        for child in value["rules"]:
            rt = _rule_types.get(child.block_type)
            texts.append(rt.describe(child.value) if rt else str(child.block_type))
        if texts:
            joiner = str(_(" or ")) if value["match"] == "any" else str(_(" and "))
            lines.append(joiner.join(texts))
    return lines


def compile_rule(block_type: str, value) -> Q:
    rt = _rule_types.get(block_type)
    if rt is None:
        raise RuleError(_("Unknown rule type %(type)s.") % {"type": block_type})
    q = rt.q(value)
    return ~q if value.get("negate") else q


# --- helpers -------------------------------------------------------------------


def ago(days: int):
    """``now - days`` evaluated by the database (compiled rules stay reusable)."""
    return ExpressionWrapper(Now() - Value(timedelta(days=days)), output_field=DateTimeField())


def touchpoints(kind: str | list[str], within_days=None, **filters):
    # A scanner's click (events.MACHINE_MADE) counts for nothing.
    qs = Touchpoint.objects.filter(NOT_MACHINE_MADE, contact=OuterRef("pk"), **filters)
    qs = qs.filter(kind__in=kind) if isinstance(kind, list) else qs.filter(kind=kind)
    if within_days:
        qs = qs.filter(occurred_at__gte=ago(within_days))
    return qs


def page_filter(value, *, required: bool = True) -> dict:
    page = value.get("page")
    if page is None:
        if required:
            raise RuleError(
                _(
                    "A rule refers to a page that no longer exists (it was deleted). "
                    "Choose another page or remove the rule."
                )
            )
        return {}
    if value.get("include_subpages"):
        return {"page__path__startswith": page.path}
    return {"page_id": page.pk}


class JSONNumber(Func):
    """A JSON property as a number, or NULL when the visitor sent anything else.

    Properties come from browsers and shops: a plain CAST of ``"12 €"`` or of a
    nested object fails the whole statement (the reaction, the rebuild, every
    other segment tested in the same query). Only JSON numbers are read; text,
    booleans, objects and missing keys are NULL, so a rule over them simply does
    not match. PostgreSQL reads them as ``numeric`` (no float overflow for
    ``1e400``), SQLite as REAL (its integer SUM would overflow).
    """

    output_field = FloatField()

    def __init__(self, field: str, key: str):
        if not PROPERTY_RE.match(key):
            raise RuleError(_("%(name)s is not a valid property name.") % {"name": key})
        self.key = key
        super().__init__(F(field))

    def as_sql(self, compiler, connection, **extra):
        raise NotImplementedError(f"JSONNumber has no SQL for {connection.vendor}")

    def as_postgresql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        sql = (
            f"(CASE WHEN jsonb_typeof({column} -> %s) = 'number' "
            f"THEN ({column} ->> %s)::numeric END)"
        )
        return sql, (*params, self.key, *params, self.key)

    def as_sqlite(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        path = f'$."{self.key}"'
        sql = (
            f"(CASE WHEN json_type({column}, %s) IN ('integer', 'real') "
            f"THEN CAST(json_extract({column}, %s) AS REAL) END)"
        )
        return sql, (*params, path, *params, path)


class Number(Func):
    """A number parameter of the type JSONNumber yields (numeric on PostgreSQL:
    comparing numeric with double precision casts the sum and can overflow)."""

    output_field = FloatField()

    def __init__(self, number: float):
        self.number = float(number)
        super().__init__()

    def as_sql(self, compiler, connection, **extra):
        return "%s", (self.number,)

    def as_postgresql(self, compiler, connection, **extra):
        return "CAST(%s AS numeric)", (repr(self.number),)


def within_block():
    return blocks.IntegerBlock(
        required=False, min_value=1, label=_("Within the last (days)"), help_text=_("Empty: ever.")
    )


# --- built-in rule types -------------------------------------------------------------


@register_rule_type
class ScoreRule(RuleType):
    name = "score"
    label = _("Score range")

    def fields(self):
        return [
            ("min", blocks.IntegerBlock(required=False, label=_("At least"))),
            ("max", blocks.IntegerBlock(required=False, label=_("At most"))),
        ]

    def q(self, value):
        q = Q()
        if value.get("min") is not None:
            q &= Q(score__gte=value["min"])
        if value.get("max") is not None:
            q &= Q(score__lte=value["max"])
        return q


def _lifecycle_choices():
    from wagtail_journey.stages import lifecycle_choices

    return lifecycle_choices()


@register_rule_type
class LifecycleRule(RuleType):
    name = "lifecycle_stage"
    label = _("Lifecycle stage")

    def fields(self):
        return [
            (
                "stages",
                blocks.MultipleChoiceBlock(choices=_lifecycle_choices, label=_("Stages")),
            )
        ]

    def q(self, value):
        return Q(lifecycle_stage__in=list(value.get("stages") or []))


@register_rule_type
class JourneyRule(RuleType):
    name = "journey_stage"
    label = _("Journey stage")

    def fields(self):
        return [
            (
                "stages",
                blocks.MultipleChoiceBlock(choices=JourneyStage.choices, label=_("Stages")),
            )
        ]

    def q(self, value):
        return Q(journey_stage__in=list(value.get("stages") or []))


@register_rule_type
class TagRule(RuleType):
    name = "tag"
    label = _("Has tag")

    def fields(self):
        return [("tag", blocks.CharBlock(max_length=100, label=_("Tag")))]

    def q(self, value):
        return Q(
            Exists(
                TaggedContact.objects.filter(
                    content_object=OuterRef("pk"),
                    tag__name__iexact=(value.get("tag") or "").strip(),  # "VIP" is "vip"
                )
            )
        )


@register_rule_type
class VisitedPageRule(RuleType):
    name = "visited_page"
    label = _("Visited a page")

    def fields(self):
        return [
            ("page", blocks.PageChooserBlock(label=_("Page"))),
            ("include_subpages", blocks.BooleanBlock(required=False, label=_("or its subpages"))),
            ("within_days", within_block()),
        ]

    def q(self, value):
        return Q(Exists(touchpoints("page_view", value.get("within_days"), **page_filter(value))))


def _form_choices():
    """The site's forms by page title and form name (the rule stores the block id)."""
    from wagtail_journey.pages import site_forms

    return [(key, f"{page.title} — {name}") for page, key, name in site_forms()]


@register_rule_type
class SubmittedFormRule(RuleType):
    name = "submitted_form"
    label = _("Submitted a form")

    def fields(self):
        return [
            ("page", blocks.PageChooserBlock(label=_("On page"))),
            (
                "form",
                blocks.ChoiceBlock(choices=_form_choices, required=False, label=_("Form")),
            ),
            ("within_days", within_block()),
        ]

    def q(self, value):
        filters = page_filter(value)
        if value.get("form"):
            filters["properties__form"] = value["form"]
        return Q(Exists(touchpoints("form_submitted", value.get("within_days"), **filters)))


@register_rule_type
class EmailRule(RuleType):
    name = "email"
    label = _("Opened or clicked an email")

    def fields(self):
        return [
            (
                "action",
                blocks.ChoiceBlock(
                    choices=[
                        ("email_opened", _("opened")),
                        ("email_clicked", _("clicked")),
                    ],
                    label=_("Action"),
                ),
            ),
            ("email", blocks.CharBlock(required=False, label=_("Email key (optional)"))),
            ("within_days", within_block()),
        ]

    def q(self, value):
        filters = {"properties__email": value["email"]} if value.get("email") else {}
        return Q(Exists(touchpoints(value["action"], value.get("within_days"), **filters)))


@register_rule_type
class EventCountRule(RuleType):
    name = "event_count"
    label = _("Number of events")

    def fields(self):
        return [
            ("kind", blocks.CharBlock(max_length=64, label=_("Touchpoint kind"))),
            ("at_least", blocks.IntegerBlock(min_value=1, default=1, label=_("At least"))),
            ("within_days", within_block()),
        ]

    def q(self, value):
        tps = touchpoints(value["kind"], value.get("within_days"))
        n = value.get("at_least") or 1
        if n <= 1:
            return Q(Exists(tps))
        count = Subquery(tps.order_by().values("contact").annotate(n=Count("pk")).values("n")[:1])
        return Q(GreaterThanOrEqual(Coalesce(count, 0), n))


@register_rule_type
class EventSumRule(RuleType):
    name = "event_sum"
    label = _("Total of an event property")

    def fields(self):
        return [
            ("kind", blocks.CharBlock(max_length=64, label=_("Touchpoint kind"))),
            ("property", blocks.CharBlock(max_length=64, label=_("Property (e.g. total)"))),
            ("at_least", blocks.FloatBlock(label=_("Totalling at least"))),
            ("within_days", within_block()),
        ]

    def q(self, value):
        prop = value.get("property") or ""
        if not PROPERTY_RE.match(prop):
            raise RuleError(_("%(name)s is not a valid property name.") % {"name": prop})
        tps = touchpoints(value["kind"], value.get("within_days"))
        total = Subquery(
            tps.order_by()
            .values("contact")
            .annotate(t=Sum(JSONNumber("properties", prop)))
            .values("t")[:1],
            output_field=FloatField(),
        )
        return Q(GreaterThanOrEqual(Coalesce(total, Number(0)), Number(value["at_least"])))


def _before_after():
    return blocks.ChoiceBlock(
        choices=[("before", _("more than N days ago")), ("after", _("within the last N days"))],
        label=_("When"),
    )


class _RelativeDateRule(RuleType):
    """A contact date compared with "N days ago"; ``never_is_before`` counts an
    empty date as long ago (a contact never active is inactive)."""

    date_field = ""
    never_is_before = False

    def fields(self):
        return [
            ("when", _before_after()),
            ("days", blocks.IntegerBlock(min_value=0, label=_("Days"))),
        ]

    def q(self, value):
        since = ago(value["days"])
        if value["when"] == "before":
            before = Q(**{f"{self.date_field}__lt": since})
            if self.never_is_before:
                before |= Q(**{f"{self.date_field}__isnull": True})
            return before
        return Q(**{f"{self.date_field}__gte": since})


@register_rule_type
class LastActivityRule(_RelativeDateRule):
    name = "last_activity"
    label = _("Last activity")
    date_field = "last_activity_at"
    never_is_before = True


@register_rule_type
class CreatedRule(_RelativeDateRule):
    name = "created"
    label = _("Contact created")
    date_field = "created_at"


@register_rule_type
class SourceRule(RuleType):
    name = "source"
    label = _("First or last source")

    def fields(self):
        return [
            (
                "touch",
                blocks.ChoiceBlock(
                    choices=[("first_touch", _("first touch")), ("last_touch", _("last touch"))],
                    label=_("Touch"),
                ),
            ),
            (
                "field",
                blocks.ChoiceBlock(
                    choices=[
                        ("source", _("source")),
                        ("medium", _("medium")),
                        ("campaign", _("campaign")),
                    ],
                    label=_("Field"),
                ),
            ),
            ("value", blocks.CharBlock(max_length=200, label=_("Value"))),
        ]

    def q(self, value):
        touch, field = value["touch"], value["field"]
        if touch not in ("first_touch", "last_touch") or field not in (
            "source",
            "medium",
            "campaign",
        ):
            raise RuleError(_("Invalid source rule."))
        # Touches store UTM keys without the "utm_" prefix (tracking/attribution.py).
        return Q(**{f"{touch}__{field}": value["value"]})


@register_rule_type
class ConsentRule(RuleType):
    """Consent state per purpose: the contact's latest answer counts (double opt-in
    grants only once confirmed), as for sending (privacy.consent)."""

    name = "consent"
    label = _("Consent")

    def fields(self):
        from wagtail.snippets.blocks import SnippetChooserBlock

        return [
            ("purpose", SnippetChooserBlock("wagtail_journey.ConsentPurpose", label=_("Purpose"))),
            (
                "state",
                blocks.ChoiceBlock(
                    choices=[("granted", _("has consented")), ("missing", _("has not consented"))],
                    default="granted",
                    label=_("State"),
                ),
            ),
        ]

    def q(self, value):
        from wagtail_journey.privacy.consent import contacts_with_consent

        purpose = value.get("purpose")
        if purpose is None:
            raise RuleError(_("The consent purpose of this rule was deleted."))
        consented = Q(pk__in=contacts_with_consent(purpose.key).values("pk"))
        return consented if value.get("state", "granted") == "granted" else ~consented

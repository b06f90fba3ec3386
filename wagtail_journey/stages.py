"""Lifecycle stages (subscriber ... evangelist) and journey stages (awareness ...
advocacy) of contacts.

Lifecycle: an ordered list (setting LIFECYCLE_STAGES); automatic transitions
(LifecycleTransition rows: a score threshold or a touchpoint kind) only move
forward; editors move contacts anywhere with :func:`set_lifecycle_stage`.
Every change records a ``stage_changed`` touchpoint.

Journey: a contact's journey stage is the furthest stage among its touchpoints.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Case, IntegerField, OuterRef, Q, Subquery, Value, When
from django.utils.translation import gettext_lazy as _

from wagtail_journey.conf import journey_settings
from wagtail_journey.events import reaction
from wagtail_journey.models import Contact, JourneyStage, LifecycleTransition, Touchpoint

STAGE_LABELS = {
    "subscriber": _("Subscriber"),
    "lead": _("Lead"),
    "mql": _("Marketing qualified lead"),
    "sql": _("Sales qualified lead"),
    "opportunity": _("Opportunity"),
    "customer": _("Customer"),
    "evangelist": _("Evangelist"),
}

JOURNEY_ORDER = [value for value, _label in JourneyStage.choices]


def lifecycle_stages() -> list[str]:
    return list(journey_settings.LIFECYCLE_STAGES)


def lifecycle_choices() -> list[tuple[str, str]]:
    return [(s, STAGE_LABELS.get(s, s.replace("_", " ").title())) for s in lifecycle_stages()]


def _rank(stage: str) -> int:
    stages = lifecycle_stages()
    return stages.index(stage) if stage in stages else -1


def set_lifecycle_stage(
    contact: Contact,
    stage: str,
    *,
    reason: str = "manual",
    forward_only: bool = False,
    user=None,
    touchpoint: Touchpoint | None = None,
) -> bool:
    """Move ``contact`` to ``stage``; True when it changed (a ``stage_changed``
    touchpoint is recorded). ``forward_only`` refuses to move backwards (what
    automatic transitions use); editors call it without."""
    from wagtail_journey.events import record

    if stage not in lifecycle_stages():
        raise ValueError(f"Unknown lifecycle stage: {stage!r}")
    with transaction.atomic():
        current = (
            Contact.objects.select_for_update()
            .values_list("lifecycle_stage", flat=True)
            .get(pk=contact.pk)
        )
        if current == stage or (forward_only and _rank(stage) <= _rank(current)):
            return False
        Contact.objects.filter(pk=contact.pk).update(lifecycle_stage=stage)
        contact.lifecycle_stage = stage
        props = {"from": current, "to": stage, "reason": reason}
        if user is not None:
            props["by"] = user.get_username()
        if touchpoint is not None:
            props["touchpoint"] = touchpoint.pk
        record("stage_changed", contact=contact, properties=props)
    return True


def _apply_transitions(
    contact: Contact, q: Q, *, score: int | None, touchpoint: Touchpoint | None = None
) -> None:
    """Move ``contact`` forward to the furthest stage of the transitions matching ``q``."""
    targets = [t.stage for t in LifecycleTransition.objects.filter(q, active=True)]
    targets = [s for s in targets if _rank(s) >= 0]
    if not targets:
        return
    best = max(targets, key=_rank)
    set_lifecycle_stage(
        contact,
        best,
        reason="score" if score is not None else "event",
        forward_only=True,
        touchpoint=touchpoint,
    )


def lifecycle_of_history(contact: Contact, touchpoints: list[Touchpoint]) -> None:
    """Event transitions for the kinds in an identified visitor's history (one
    query; score thresholds follow from the ``score_changed`` scoring records)."""
    kinds = sorted({tp.kind for tp in touchpoints})
    _apply_transitions(contact, Q(kind__in=kinds), score=None)


@reaction("stages", order=30, history=lifecycle_of_history)
def lifecycle_transitions(touchpoint: Touchpoint) -> None:
    """Apply automatic transitions: score thresholds on ``score_changed``,
    event transitions on their kind. One query when nothing applies."""
    if touchpoint.contact_id is None:
        return
    q = Q(kind=touchpoint.kind)
    score = None
    if touchpoint.kind == "score_changed" and touchpoint.properties:
        score = touchpoint.properties.get("score")
        if score is not None:
            q |= Q(min_score__isnull=False, min_score__lte=score)
    _apply_transitions(touchpoint.contact, q, score=score, touchpoint=touchpoint)


def _advance_journey_stage(contact_id: int, stage: str) -> None:
    earlier = ["", *JOURNEY_ORDER[: JOURNEY_ORDER.index(stage)]]
    Contact.objects.filter(pk=contact_id, journey_stage__in=earlier).update(journey_stage=stage)


def journey_of_history(contact: Contact, touchpoints: list[Touchpoint]) -> None:
    """The furthest stage of an identified visitor's history (one UPDATE)."""
    stages = {tp.journey_stage for tp in touchpoints} & set(JOURNEY_ORDER)
    if stages:
        _advance_journey_stage(contact.pk, max(stages, key=JOURNEY_ORDER.index))


@reaction("journey_stage", order=31, history=journey_of_history)
def journey_stage(touchpoint: Touchpoint) -> None:
    """A contact's journey stage only moves on to a further stage (one UPDATE)."""
    stage = touchpoint.journey_stage
    if touchpoint.contact_id is None or stage not in JOURNEY_ORDER:
        return
    _advance_journey_stage(touchpoint.contact_id, stage)


def rebuild_journey_stages() -> int:
    """Recompute every contact's journey stage from its touchpoints (one UPDATE)."""
    rank = Case(
        *[When(journey_stage=s, then=Value(i)) for i, s in enumerate(JOURNEY_ORDER)],
        default=Value(-1),
        output_field=IntegerField(),
    )
    furthest = (
        Touchpoint.objects.filter(contact=OuterRef("pk"))
        .exclude(journey_stage="")
        .annotate(rank=rank)
        .order_by("-rank")
        .values("journey_stage")[:1]
    )
    from django.db.models.functions import Coalesce

    return Contact.objects.update(journey_stage=Coalesce(Subquery(furthest), Value("")))

"""Lead assignment and team notifications for flows.

Owners are chosen among the active users of a Wagtail group, in turn
(round-robin: the flow row is locked while choosing, so two workers never
pick the same "next" user) or by load (the user owning the fewest contacts).
Notifications are transactional emails to staff, built in code
(``flow_notice``): they carry a link to the contact in the admin and the
flow's name, never the contact's personal data.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count
from django.urls import reverse
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext

from wagtail_journey.emails.messages import BuiltMessage
from wagtail_journey.flows.steps import NEXT, Outcome, StepContext, pause
from wagtail_journey.models import Contact
from wagtail_journey.models.flows import Flow, PauseReason, StepRun

MESSAGE = "flow_notice"


def _group_users(group_id: Any) -> list[Any]:
    User = get_user_model()
    return list(
        User.objects.filter(groups__pk=group_id, is_active=True)
        .exclude(email="")
        .order_by("pk")
        .distinct()
    )


def choose_owner(ctx: StepContext, users: list[Any]) -> Any:
    ids = [u.pk for u in users]
    if (ctx.value.get("method") or "round_robin") == "least_loaded":
        loads = dict(
            Contact.objects.filter(owner_id__in=ids)
            .order_by()
            .values_list("owner_id")
            .annotate(n=Count("pk"))
        )
        chosen = min(ids, key=lambda pk: (loads.get(pk, 0), pk))
    else:
        # Serialise the choice per flow; the last assignment of this step says whose turn it is.
        list(Flow.objects.select_for_update().filter(pk=ctx.plan.flow_id).values_list("pk"))
        last = (
            StepRun.objects.filter(
                flow_id=ctx.plan.flow_id, step_id=ctx.node.id, detail__has_key="owner"
            )
            .order_by("-pk")
            .values_list("detail", flat=True)
            .first()
        )
        previous = (last or {}).get("owner")
        later = [pk for pk in ids if previous is not None and pk > previous]
        chosen = later[0] if later else ids[0]
    return next(u for u in users if u.pk == chosen)


def assign_owner(ctx: StepContext) -> Outcome:
    users = _group_users(ctx.value.get("group"))
    if not users:
        return pause(
            PauseReason.ERROR, gettext("The group has no active user with an email address.")
        )
    owner = choose_owner(ctx, users)
    ctx.detail["owner"] = owner.pk
    ctx.note(gettext("Assigns the contact to %(user)s") % {"user": owner.get_username()})
    if ctx.dry_run:
        return NEXT
    Contact.objects.filter(pk=ctx.contact.pk).update(owner_id=owner.pk)
    ctx.contact.owner_id = owner.pk
    if ctx.value.get("notify", True):
        _notify(ctx, owner, "owner", "")
    return NEXT


def notify_team(ctx: StepContext) -> Outcome:
    users = _group_users(ctx.value.get("group"))
    ctx.note(gettext("Notifies %(count)s users") % {"count": len(users)})
    ctx.detail["notified"] = len(users)
    if not ctx.dry_run:
        for user in users:
            _notify(ctx, user, "team", ctx.value.get("message") or "")
    return NEXT


def _notify(ctx: StepContext, user: Any, kind: str, note: str) -> None:
    from wagtail_journey.emails.sending import queue

    queue(
        idempotency_key=f"{ctx.key}:{user.pk}"[:64],
        address=user.email,
        message=MESSAGE,
        context={
            "kind": kind,
            "flow": ctx.plan.name,
            "contact": ctx.contact.pk,
            "note": note[:500],
        },
    )


def build_notice(outbound: Any, links: dict) -> BuiltMessage:
    """The ``flow_notice`` message: a link to the contact in the admin."""
    from wagtail_journey.links import absolute_url

    c = outbound.context or {}
    url = absolute_url(reverse("wagtail_journey_contact:inspect", args=[c.get("contact") or 0]))
    if c.get("kind") == "owner":
        subject = gettext("A contact was assigned to you (flow “%(flow)s”)") % {
            "flow": c.get("flow", "")
        }
    else:
        subject = gettext("A contact reached a step of the flow “%(flow)s”") % {
            "flow": c.get("flow", "")
        }
    lines = [subject, ""]
    if c.get("note"):
        lines += [c["note"], ""]
    lines.append(gettext("Open the contact: %(url)s") % {"url": url})
    text = "\n".join(lines)
    html = (
        f"<p>{escape(subject)}</p>"
        + (linebreaks(c["note"], autoescape=True) if c.get("note") else "")
        + f'<p><a href="{escape(url)}">{escape(gettext("Open the contact"))}</a></p>'
    )
    return BuiltMessage(subject=subject, html=html, text=text)

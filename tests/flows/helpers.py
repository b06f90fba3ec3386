"""Build flows from plain data in tests (and the demo), as an editor would."""

from __future__ import annotations

from wagtail_journey.models import Flow


def step(type_: str, **value) -> dict:
    return {"type": type_, "value": value}


def wait(amount: int = 1, unit: str = "days", weekdays=(), start=None, end=None) -> dict:
    return step(
        "wait",
        duration={"amount": amount, "unit": unit},
        weekdays=[str(d) for d in weekdays],
        start=start,
        end=end,
    )


def send(template) -> dict:
    return step("send_email", template=template.pk)


def trigger(type_: str, **value) -> dict:
    return {"type": type_, "value": value}


def event(kind: str, *filters) -> dict:
    return trigger(
        "event", kind=kind, filters=[{"key": k, "op": op, "value": v} for k, op, v in filters]
    )


def make_flow(
    name: str = "Flow",
    *,
    trigger: dict | None = None,
    steps=(),
    goals=(),
    publish: bool = True,
    **fields,
) -> Flow:
    flow = Flow(
        name=name,
        trigger=[trigger] if trigger else [],
        steps=list(steps),
        goals=list(goals),
        live=publish,
        **fields,
    )
    flow.save()
    revision = flow.save_revision()
    if publish:
        revision.publish()
    flow.refresh_from_db()
    return flow


def republish(flow: Flow, **changes) -> Flow:
    for name, value in changes.items():
        setattr(flow, name, value)
    flow.save_revision().publish()
    flow.refresh_from_db()
    return flow

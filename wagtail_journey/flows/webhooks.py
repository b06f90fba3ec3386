"""The webhook step: a signed JSON POST to a CRM or any HTTP endpoint, with retries.

The body is JSON; ``X-Journey-Signature: sha256=<hex>`` is the HMAC-SHA256 of
``"<X-Journey-Timestamp>.<body>"`` with FLOW_WEBHOOK_SECRET (the receiver
recomputes it and rejects old timestamps). ``Idempotency-Key`` names the
enrollment, step and visit: a receiver that stores it ignores a repeated
delivery (a POST whose answer was lost is retried, so delivery is at least
once). Connection errors, timeouts, 429 and 5xx answers are retried
FLOW_WEBHOOK_MAX_ATTEMPTS times, waiting FLOW_WEBHOOK_RETRY_SECONDS * 2**(try - 1)
(the enrollment waits at the step meanwhile); other answers go on with the
failure kept on the step's run.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import timedelta

import requests
from django.conf import settings
from django.utils.translation import gettext

from wagtail_journey.conf import journey_settings
from wagtail_journey.flows.steps import NEXT, Outcome, StepContext, wait_until
from wagtail_journey.models.flows import StepRun


def secret() -> bytes:
    return str(journey_settings.FLOW_WEBHOOK_SECRET or settings.SECRET_KEY).encode()


def sign(body: bytes, timestamp: str) -> str:
    digest = hmac.new(secret(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def payload(ctx: StepContext) -> dict:
    contact = ctx.contact
    return {
        "event": "flow.step",
        "flow": {"id": ctx.plan.flow_id, "name": ctx.plan.name},
        "step": ctx.node.id,
        "enrollment": ctx.enrollment.pk,
        "contact": {
            "id": contact.pk,
            "email": contact.email,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "score": contact.score,
            "lifecycle_stage": contact.lifecycle_stage,
            "owner": contact.owner_id,
        },
    }


def call(ctx: StepContext) -> Outcome:
    url = ctx.value.get("url") or ""
    ctx.note(gettext("Posts to %(url)s") % {"url": url})
    if ctx.dry_run:
        return NEXT
    body = json.dumps(payload(ctx), separators=(",", ":"), sort_keys=True).encode()
    stamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Journey-Timestamp": stamp,
        "X-Journey-Signature": sign(body, stamp),
        "Idempotency-Key": ctx.key,
    }
    try:
        response = requests.post(
            url, data=body, headers=headers, timeout=journey_settings.FLOW_WEBHOOK_TIMEOUT
        )
        status, retry = (
            response.status_code,
            response.status_code == 429 or response.status_code >= 500,
        )
    except requests.RequestException as exc:
        status, retry = type(exc).__name__, True
    attempt = ctx.enrollment.attempts + 1
    ctx.detail.update(status=status, attempts=attempt)
    if retry and attempt < journey_settings.FLOW_WEBHOOK_MAX_ATTEMPTS:
        ctx.enrollment.attempts = attempt
        wait = journey_settings.FLOW_WEBHOOK_RETRY_SECONDS * 2 ** (attempt - 1)
        return wait_until(ctx.now + timedelta(seconds=wait))
    if ctx.enrollment.waiting:
        # A retry: keep the outcome on the step's run (the first try made the row).
        StepRun.objects.filter(
            enrollment_id=ctx.enrollment.pk, step_id=ctx.node.id, visit=ctx.enrollment.visit
        ).update(detail=ctx.detail)
    return NEXT

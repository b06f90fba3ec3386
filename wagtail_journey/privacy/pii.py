"""Which model fields hold personal data, in one place: export, erasure and retention read it.

Every field of every model of the package is classified here:

- ``PERSONAL``: data about a person (an address, a name, what they typed, a
  cookie id, an IP). Erasure blanks it (or deletes the row); export includes it.
- ``DERIVED``: computed from a person's data (score, stages, activity times).
  Erasure resets it to its default; export includes it.
- ``NOT_PERSONAL``: configuration, keys, counts, the kind and time of an event.

Each model also says how it reaches its subject (``subject``: the ORM path to
the Contact, ``visitor``: to the Visitor, for a browser's rows not yet joined
to a contact), what erasure does with its rows (``DELETE``, ``ANONYMISE``:
personal and derived fields blanked, row kept for counts, or ``KEEP`` with a
reason) and under which name export writes it (``section``).

The system check (``wagtail_journey.E080``-``E083``, :func:`check_registry`) fails
for a model of the package that is not registered, a field that is not
classified (fields Wagtail adds through its mixins included), and for a model
of any app with a foreign key to Contact or Visitor that is not registered, so
a new column or table cannot silently escape erasure. A site registers its own
models with :func:`register`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PERSONAL = "personal"
DERIVED = "derived"
NOT_PERSONAL = "not_personal"
CLASSES = (PERSONAL, DERIVED, NOT_PERSONAL)

DELETE = "delete"
ANONYMISE = "anonymise"
KEEP = "keep"
ACTIONS = (DELETE, ANONYMISE, KEEP)


@dataclass(frozen=True)
class ModelPrivacy:
    """How one model holds personal data (see the module docstring)."""

    fields: Mapping[str, str]
    subject: str | None = None
    visitor: str | None = None
    erase: str = KEEP
    section: str = ""
    #: Extra values() lookups written by export next to the fields (a purpose's key ...).
    export_extra: tuple[str, ...] = ()
    #: Why rows are kept (KEEP) or what else happens to them.
    reason: str = ""

    def personal_fields(self) -> list[str]:
        return [name for name, kind in self.fields.items() if kind == PERSONAL]

    def reset_fields(self) -> list[str]:
        """The fields erasure blanks or resets: personal and derived ones."""
        return [name for name, kind in self.fields.items() if kind in (PERSONAL, DERIVED)]


P, D, N = PERSONAL, DERIVED, NOT_PERSONAL

#: The package's own models. Order matters to erasure: rows are anonymised first,
#: then deleted in this order (dependents before what they point at).
_REGISTRY: dict[str, ModelPrivacy] = {
    "wagtail_journey.Touchpoint": ModelPrivacy(
        {
            "id": N, "kind": N, "occurred_at": N, "contact": N, "visitor": P, "page": N,
            "session": P, "device": N, "audience_only": N, "journey_stage": N, "utm": P,
            "properties": P, "dedupe_key": P,
        },
        subject="contact", visitor="visitor", erase=ANONYMISE, section="touchpoints",
        reason="Kind, time and page stay for the anonymous statistics.",
    ),
    "wagtail_journey.ConsentRecord": ModelPrivacy(
        {
            "id": N, "contact": N, "purpose": N, "version": N, "text_shown": N, "action": N,
            "method": N, "created_at": N, "source_url": P, "form_key": N, "submission": N,
            "ip_address": P, "user_agent": P, "double_opt_in": N, "confirmed_at": N,
            "confirmation_sent_at": N, "confirmation_skipped": N,
        },
        subject="contact", erase=ANONYMISE, section="consents",
        export_extra=("purpose__key", "purpose__name", "version__number"),
        reason="Which purpose was answered when stays for consent statistics.",
    ),
    "wagtail_journey.FormSubmission": ModelPrivacy(
        {
            "id": N, "page": N, "form_key": N, "form_name": N, "contact": N, "visitor": P,
            "data": P, "consent_snapshot": N, "created_at": N, "render_token": P,
        },
        subject="contact", visitor="visitor", erase=ANONYMISE, section="submissions",
        reason="The form and time stay for the form's submission counts.",
    ),
    "wagtail_journey.OutboundEmail": ModelPrivacy(
        {
            "id": N, "status": N, "reason": N, "detail": P, "contact": N, "address": P,
            "purpose": N, "message": N, "broadcast": N, "template": N, "revision": N,
            "context": P, "language": N, "idempotency_key": N, "esp_message_id": P,
            "attempts": N, "created_at": N, "due_at": N, "claimed_at": N, "sent_at": N,
            "event_at": N, "variant": N,
            # Engagement flags and times: kept for the statistics, naming nobody
            # once the row has lost its contact and address.
            "opened_at": N, "clicked_at": N, "machine_opened": N, "machine_clicked": N,
            "unsubscribed": N,
        },
        subject="contact", erase=ANONYMISE, section="emails",
        export_extra=("template__name",),
        reason="Status and times stay for the delivery statistics.",
    ),
    "wagtail_journey.ScoreChange": ModelPrivacy(
        {
            "id": N, "contact": N, "rule": N, "touchpoint": N, "reason": N, "label": P,
            "delta": D, "occurred_at": N, "after_decay_run": N, "created_at": N,
        },
        subject="contact", erase=DELETE, section="score_changes",
    ),
    "wagtail_journey.SegmentMembership": ModelPrivacy(
        {"id": N, "segment": N, "contact": N, "entered_at": D},
        subject="contact", erase=DELETE, section="segments", export_extra=("segment__name",),
    ),
    "wagtail_journey.TaggedContact": ModelPrivacy(
        {"id": N, "tag": N, "content_object": N},
        subject="content_object", erase=DELETE, section="tags", export_extra=("tag__name",),
    ),
    "wagtail_journey.StageEntry": ModelPrivacy(
        {"id": N, "day": N, "contact": N, "scheme": N, "stage": N, "entered_at": N},
        subject="contact", erase=KEEP, section="stages",
        reason="A report roll-up: which stage was reached on which day, by an anonymous id.",
    ),
    "wagtail_journey.ReportContactDay": ModelPrivacy(
        {
            "id": N, "day": N, "contact": N, "submissions": N, "orders": N,
            "revenue_cents": N, "cart_updates": N,
        },
        subject="contact", erase=KEEP,
        reason="A report roll-up of daily counts, by an anonymous id.",
    ),
    "wagtail_journey.ReportSession": ModelPrivacy(
        {
            "id": N, "day": N, "session": P, "visitor": P, "audience_only": N, "source": N,
            "medium": N, "entry_page": N, "exit_page": N, "page_views": N,
        },
        subject="visitor__contact", visitor="visitor", erase=DELETE,
        reason="Sessions of the person's browsers go with the browsers.",
    ),
    "wagtail_journey.DataExport": ModelPrivacy(
        {
            "id": N, "contact": N, "reference": N, "via": N, "status": N, "file_name": P,
            "created_at": N, "ready_at": N, "expires_at": N, "downloaded_at": N,
        },
        subject="contact", erase=DELETE, reason="Export files are deleted with the rows.",
    ),
    "wagtail_journey.Visitor": ModelPrivacy(
        {
            "id": N, "key": P, "contact": N, "audience_only": N, "consented_at": D,
            "created_at": N, "last_seen_at": D,
        },
        subject="contact", visitor="pk", erase=DELETE, section="browsers",
    ),
    "wagtail_journey.Contact": ModelPrivacy(
        {
            "id": N, "email": P, "first_name": P, "last_name": P, "phone": P, "owner": N,
            "score": D, "lifecycle_stage": D, "journey_stage": D, "tags": P,
            "first_touch": P, "last_touch": P, "created_at": N, "updated_at": N,
            "last_activity_at": D, "email_confirmed_at": D, "decay_total": D,
            "decay_runs": D, "last_decay_run": D, "time_zone": P, "erased_at": N,
            "restricted_at": N, "objects_to_marketing_at": N, "objects_to_profiling_at": N,
        },
        subject="pk", erase=ANONYMISE,
        reason="An anonymous shell stays so roll-ups and receipts keep their key.",
    ),
    # Held by address, not by contact: erasure blanks the address and keeps the key.
    "wagtail_journey.Suppression": ModelPrivacy(
        {
            "id": N, "address_hash": N, "address": P, "source": N, "reason": P,
            "created_at": N,
        },
        erase=KEEP, reason="Matched by the keyed hash of the address (erasure.py).",
    ),
    # Hashed client addresses in fixed windows: purged by retention, never read back.
    "wagtail_journey.RateLimitCounter": ModelPrivacy(
        {"id": N, "key": P, "window": N, "count": N},
        erase=KEEP, reason="Hashed, short-lived; purged by the retention schedule.",
    ),
    "wagtail_journey.ErasureReceipt": ModelPrivacy(
        {
            "id": N, "reference": N, "contact_ref": N, "requested_by": N, "erased_at": N,
            "counts": N,
        },
    ),
    # Fingerprints of used single-use links (a hash of a random nonce): no personal data.
    "wagtail_journey.UsedPrivacyToken": ModelPrivacy(
        {"id": N, "digest": N, "kind": N, "used_at": N},
    ),
    # Configuration and anonymous aggregates: no personal data.
    "wagtail_journey.ConsentPurpose": ModelPrivacy(
        {
            "id": N, "name": N, "key": N, "text": N, "required": N, "double_opt_in": N,
            "is_marketing": N, "version": N, "created_at": N,
        }
    ),
    "wagtail_journey.ConsentPurposeVersion": ModelPrivacy(
        {
            "id": N, "purpose": N, "number": N, "text": N, "required": N,
            "double_opt_in": N, "created_at": N,
        }
    ),
    "wagtail_journey.Segment": ModelPrivacy(
        {
            "id": N, "name": N, "description": N, "kind": N, "match": N, "rules": N,
            "active": N, "member_count": N, "last_rebuilt_at": N, "error": N,
            "created_at": N, "updated_at": N,
        }
    ),
    "wagtail_journey.ScoringRule": ModelPrivacy(
        {
            "id": N, "name": N, "active": N, "kind": N, "page": N, "include_subpages": N,
            "page_deleted": N, "form": N, "email": N, "utm_source": N, "utm_campaign": N,
            "property_name": N, "property_value": N, "points": N, "cap_count": N,
            "cap_period": N, "add_tag": N, "created_at": N, "updated_at": N,
        }
    ),
    "wagtail_journey.DecayRun": ModelPrivacy(
        {
            "id": N, "period": N, "mode": N, "days": N, "points": N, "cutoff": N,
            "ran_at": N, "contacts": N, "created_at": N,
        }
    ),
    "wagtail_journey.LifecycleTransition": ModelPrivacy(
        {"id": N, "stage": N, "min_score": N, "kind": N, "active": N}
    ),
    "wagtail_journey.EmailTemplate": ModelPrivacy(
        {
            "id": N, "name": N, "language": N, "subject": N, "preheader": N, "from_name": N,
            "from_email": N, "reply_to": N, "purpose": N, "transactional": N,
            "track_clicks": N, "body": N, "created_at": N, "updated_at": N,
            # Wagtail's DraftStateMixin and RevisionMixin
            "live": N, "has_unpublished_changes": N, "first_published_at": N,
            "last_published_at": N, "live_revision": N, "latest_revision": N,
            "_revisions": N, "go_live_at": N, "expire_at": N, "expired": N,
        }
    ),
    # Flows: configuration (no person), and who is where in them.
    "wagtail_journey.Flow": ModelPrivacy(
        {
            "id": N, "name": N, "description": N, "trigger": N, "entry_match": N,
            "entry_rules": N, "reentry": N, "reentry_days": N, "marketing": N, "goals": N,
            "steps": N, "paused": N, "dates_checked_at": N, "created_at": N, "updated_at": N,
            # Wagtail's DraftStateMixin, LockableMixin and RevisionMixin
            "live": N, "has_unpublished_changes": N, "first_published_at": N,
            "last_published_at": N, "live_revision": N, "latest_revision": N,
            "_revisions": N, "go_live_at": N, "expire_at": N, "expired": N,
            "locked": N, "locked_at": N, "locked_by": N,
        }
    ),
    # Step runs before their enrollments: erasure deletes dependents first.
    "wagtail_journey.StepRun": ModelPrivacy(
        {
            "id": N, "enrollment": N, "flow": N, "step_id": N, "visit": N, "ran_at": N,
            "outcome": N, "outbound_email": N, "detail": P,
        },
        subject="enrollment__contact", erase=DELETE, section="flow_steps",
    ),
    "wagtail_journey.Enrollment": ModelPrivacy(
        {
            "id": N, "flow": N, "contact": N, "revision": N, "status": N, "step_id": N,
            "visit": N, "waiting": N, "next_run_at": N, "step_entered_at": N,
            "enrolled_at": N, "ended_at": N, "exit_reason": N, "pause_reason": N,
            "detail": P, "entry_key": N, "source": N, "attempts": N,
        },
        subject="contact", erase=DELETE, section="flows",
        reason="An erased person leaves every flow; their steps go with them.",
    ),
    # The landing page type (its Page fields are Wagtail's): content, no person.
    "wagtail_journey.LandingPage": ModelPrivacy(
        {
            "page_ptr": N, "body": N, "_revisions": N, "_workflow_states": N,
            "_specific_workflow_states": N, "index_entries": N,
        }
    ),
    "wagtail_journey.Broadcast": ModelPrivacy(
        {
            "id": N, "name": N, "template": N, "segment": N, "rate_per_minute": N,
            "status": N, "audience": N, "created_at": N, "started_at": N,
            "send_at": N, "ab_metric": N, "ab_test_share": N, "ab_wait_minutes": N,
            "test_ends_at": N, "winner": N, "winner_picked_at": N,
        }
    ),
    "wagtail_journey.BroadcastVariant": ModelPrivacy(
        {
            "id": N, "sort_order": N, "broadcast": N, "subject": N, "template": N,
            "revision": N, "label": N,
        }
    ),
    "wagtail_journey.DailyMetric": ModelPrivacy(
        {"id": N, "day": N, "metric": N, "dimension": N, "value": N}
    ),
    "wagtail_journey.DailyPageStat": ModelPrivacy(
        {"id": N, "day": N, "page": N, "source": N, "views": N, "visitors": N}
    ),
    "wagtail_journey.PageJourneyStage": ModelPrivacy(
        {"id": N, "page": N, "stage": N, "include_descendants": N}
    ),
    "wagtail_journey.TrackingBatch": ModelPrivacy({"id": N, "key": N, "stored_at": N}),
}  # fmt: skip


def empty_value(model: type[models.Model], name: str) -> Any:
    """The value a personal or derived field is reset to (its default, NULL or empty)."""
    f = model._meta.get_field(name)
    if f.has_default():
        return f.get_default()
    if f.null:
        return None
    if isinstance(f, models.JSONField):
        return {}
    if isinstance(f, models.CharField | models.TextField):
        return ""
    raise ImproperlyConfigured(
        f"{model._meta.label}.{name} is personal but has no empty value: give it a "
        "default or null=True, or erase the model's rows (pii.DELETE)."
    )


def resettable(model: type[models.Model], names: Iterable[str]) -> list[str]:
    """Those of ``names`` an UPDATE can set (columns, not many-to-many or the key)."""
    fields = []
    for name in names:
        f = model._meta.get_field(name)
        if f.concrete and not f.many_to_many and not f.primary_key:
            fields.append(name)
    return fields


def register(label: str, privacy: ModelPrivacy) -> None:
    """Declare how a model (``"app.Model"``) holds personal data.

    A site model with a foreign key to Contact or Visitor must be registered
    (system check E083); erasure and export then treat it like the package's own.
    """
    _REGISTRY[label] = privacy


def registry() -> dict[str, ModelPrivacy]:
    """Every registered model label and its declaration, in erasure order."""
    return dict(_REGISTRY)


def registered_models() -> Iterator[tuple[type[models.Model], ModelPrivacy]]:
    """(model, declaration) for every registered model that is installed."""
    for label, privacy in _REGISTRY.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        yield model, privacy


def classifiable_fields(model: type[models.Model]) -> list[Any]:
    """The fields a model stores itself: columns, many-to-many and generic relations
    (Wagtail's mixins add some), not the reverse side of other models' keys, and
    not those of a concrete parent (a page type's Page fields are Wagtail's)."""
    return [
        f
        for f in model._meta.get_fields(include_hidden=False)
        if not (f.auto_created and not f.concrete) and f.model is model
    ]


def wagtail_mixin_fields(model: type[models.Model]) -> set[str]:
    """Names of the fields a model gets from Wagtail's abstract mixins (publishing
    dates, revisions, workflow states): Wagtail's bookkeeping, never a person's."""
    names: set[str] = set()
    for base in model.__mro__[1:]:
        meta = getattr(base, "_meta", None)
        if meta is None or not meta.abstract or not base.__module__.startswith("wagtail."):
            continue
        for f in (*meta.local_fields, *meta.local_many_to_many, *meta.private_fields):
            names.add(f.name)
    return names


def field_class(model: type[models.Model], name: str) -> str | None:
    """The classification of ``model.name`` (None when unclassified)."""
    privacy = _REGISTRY.get(model._meta.label)
    return privacy.fields.get(name) if privacy else None


def _points_at_a_person(f: Any) -> bool:
    target = getattr(f, "related_model", None)
    if not getattr(f, "is_relation", False) or not getattr(f, "concrete", False):
        return False
    return (
        target is not None
        and getattr(target, "_meta", None) is not None
        and (target._meta.label in ("wagtail_journey.Contact", "wagtail_journey.Visitor"))
    )


@checks.register(checks.Tags.models)
def check_registry(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """System check: every model and field classified, every link to a person declared."""
    errors: list[checks.CheckMessage] = []
    ours = apps.get_app_config("wagtail_journey")
    for model in apps.get_models():
        label = model._meta.label
        privacy = _REGISTRY.get(label)
        if model._meta.app_config is ours or privacy is not None:
            if privacy is None:
                errors.append(
                    checks.Error(
                        f"{label} is not in the personal-data registry.",
                        hint="Classify its fields in wagtail_journey/privacy/pii.py.",
                        obj=model,
                        id="wagtail_journey.E080",
                    )
                )
                continue
            from_wagtail = wagtail_mixin_fields(model)
            for f in classifiable_fields(model):
                kind = privacy.fields.get(f.name)
                if kind is None and f.name in from_wagtail:
                    # A field a newer Wagtail adds to its mixins must not stop the
                    # site from starting: said, to be classified in the next release.
                    errors.append(
                        checks.Warning(
                            f"{label}.{f.name} (from Wagtail) is not classified.",
                            hint="Classify it in wagtail_journey/privacy/pii.py.",
                            obj=model,
                            id="wagtail_journey.W080",
                        )
                    )
                elif kind is None:
                    errors.append(
                        checks.Error(
                            f"{label}.{f.name} is not classified as personal, derived "
                            "or not personal.",
                            hint="Add it to the model's fields in the personal-data "
                            "registry (wagtail_journey/privacy/pii.py), so export, "
                            "erasure and retention know what to do with it.",
                            obj=model,
                            id="wagtail_journey.E081",
                        )
                    )
                elif kind not in CLASSES:
                    errors.append(
                        checks.Error(
                            f"{label}.{f.name}: unknown classification {kind!r}.",
                            obj=model,
                            id="wagtail_journey.E082",
                        )
                    )
            if privacy.erase not in ACTIONS:
                errors.append(
                    checks.Error(
                        f"{label}: unknown erasure action {privacy.erase!r}.",
                        obj=model,
                        id="wagtail_journey.E082",
                    )
                )
            continue
        linked = [f.name for f in model._meta.get_fields() if _points_at_a_person(f)]
        if linked:
            errors.append(
                checks.Error(
                    f"{label} has a foreign key to a contact or visitor ({', '.join(linked)}) "
                    "but is not in the personal-data registry: erasure would miss it.",
                    hint="Declare it with wagtail_journey.privacy.pii.register().",
                    obj=model,
                    id="wagtail_journey.E083",
                )
            )
    return errors

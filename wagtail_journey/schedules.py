"""The django-q2 schedules of wagtail_journey, created idempotently by
``manage.py journey_schedules`` (run it on every deploy) and after ``migrate``."""

from __future__ import annotations

from django.utils import timezone

from wagtail_journey.conf import journey_settings


def wanted() -> dict[str, dict]:
    from wagtail_journey.tracking.retention import SCHEDULE_NAME, TASK

    schedules = {
        SCHEDULE_NAME: {"func": TASK, "schedule_type": "D"},
        "journey-score-decay": {
            "func": "wagtail_journey.scoring.run_decay",
            "schedule_type": "D",
        },
        "journey-segment-rebuild": {
            "func": "wagtail_journey.segments.rebuild_all_segments",
            "schedule_type": "I",
            "minutes": int(journey_settings.SEGMENT_REBUILD_MINUTES),
        },
    }
    from wagtail_journey.emails.sending import SWEEP_SCHEDULE, SWEEP_TASK

    # Messages are sent as they are queued; this re-drives what is due (lost
    # tasks, a broker that was down, retries, scheduled sends) and marks dead
    # workers' claims unknown.
    schedules[SWEEP_SCHEDULE] = {"func": SWEEP_TASK, "schedule_type": "I", "minutes": 1}

    from wagtail_journey.privacy import retention as privacy_retention

    # Retention periods (daily) and export files (built if their task was lost,
    # deleted once used or expired).
    schedules[privacy_retention.SCHEDULE_NAME] = {
        "func": privacy_retention.TASK,
        "schedule_type": "D",
    }
    schedules[privacy_retention.EXPORT_SCHEDULE_NAME] = {
        "func": privacy_retention.EXPORT_TASK,
        "schedule_type": "I",
        "minutes": 15,
    }

    from wagtail_journey.flows import engine as flow_engine
    from wagtail_journey.flows import reactions as flow_reactions

    # Steps run as they fall due (tasks queued at once); this re-drives what a
    # lost task left due and runs long waits' ends within seconds.
    schedules[flow_engine.SWEEP_SCHEDULE] = {
        "func": flow_engine.SWEEP_TASK,
        "schedule_type": "I",
        "minutes": 1,
    }
    schedules[flow_reactions.DATES_SCHEDULE] = {
        "func": flow_reactions.DATES_TASK,
        "schedule_type": "I",
        "minutes": int(journey_settings.FLOW_DATE_TRIGGER_MINUTES),
    }

    from wagtail_journey.reports import rollup

    schedules[rollup.SCHEDULE_NAME] = {
        "func": rollup.TASK,
        "schedule_type": "I",
        "minutes": int(journey_settings.REPORT_ROLLUP_MINUTES),
    }
    if journey_settings.TRACKING_BUFFER:
        from wagtail_journey.tracking.buffer import FLUSH_TASK
        from wagtail_journey.tracking.buffer import SCHEDULE_NAME as BUFFER_SCHEDULE

        # Flushes are queued as items arrive; this one recovers batches of
        # workers that died and catches a flush whose queueing failed.
        schedules[BUFFER_SCHEDULE] = {"func": FLUSH_TASK, "schedule_type": "I", "minutes": 1}
    return schedules


def ensure_schedules() -> list[tuple[str, bool]]:
    """Create missing schedules and update changed ones; returns (name, created)."""
    from django_q.models import Schedule

    done = []
    for name, fields in wanted().items():
        existing = Schedule.objects.filter(name=name).first()
        if existing is None:
            Schedule.objects.create(name=name, repeats=-1, next_run=timezone.now(), **fields)
            done.append((name, True))
            continue
        changed = [k for k, v in fields.items() if getattr(existing, k) != v]
        for k in changed:
            setattr(existing, k, fields[k])
        if changed:
            existing.save()
        done.append((name, False))
    return done


def on_post_migrate(sender=None, using="default", **kwargs) -> None:
    """post_migrate handler: create the schedules (no-op until django_q is migrated)."""
    from django.db import connections
    from django_q.models import Schedule

    if Schedule._meta.db_table not in connections[using].introspection.table_names():
        return
    ensure_schedules()

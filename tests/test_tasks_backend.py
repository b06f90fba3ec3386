"""The django_tasks backend on django-q2 (sync mode here; tests/emails/test_worker_email.py
runs it on a real qcluster)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule
from django_tasks import TaskResultStatus, task, task_backends
from django_tasks.exceptions import InvalidTaskError, TaskResultDoesNotExist
from django_tasks.signals import task_enqueued, task_finished, task_started
from wagtail.models import Page, ReferenceIndex
from wagtail.tasks import update_reference_index_task

from wagtail_journey.tasks_backend import DjangoQBackend

pytestmark = pytest.mark.django_db


@task()
def add(a: int, b: int) -> int:
    return a + b


@task()
def explode() -> None:
    raise ValueError("boom")


@pytest.fixture
def signals():
    seen: list[tuple[str, str]] = []

    def make(name):
        def receiver(sender, task_result, **kwargs):
            assert sender is DjangoQBackend
            seen.append((name, task_result.status))

        return receiver

    names = ((task_enqueued, "enqueued"), (task_started, "started"), (task_finished, "finished"))
    receivers = {s: make(n) for s, n in names}
    for s, r in receivers.items():
        s.connect(r)
    yield seen
    for s, r in receivers.items():
        s.disconnect(r)


def test_the_example_site_uses_the_backend():
    assert isinstance(task_backends["default"], DjangoQBackend)


def test_enqueue_returns_a_task_result_and_get_result_reads_django_q(
    signals, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = add.enqueue(2, 3)
        assert result.status == TaskResultStatus.READY
        assert result.args == [2, 3]
        assert signals == [("enqueued", "READY")]  # pushed only once the transaction commits
    assert signals == [("enqueued", "READY"), ("started", "RUNNING"), ("finished", "SUCCESSFUL")]
    fetched = add.get_result(result.id)
    assert fetched.status == TaskResultStatus.SUCCESSFUL
    assert fetched.return_value == 5
    assert fetched.args == [2, 3]
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL and result.return_value == 5


def test_a_failing_task_sends_finished_failed_and_raises_for_django_q(
    signals, django_capture_on_commit_callbacks
):
    # django-q2's sync mode re-raises (a real worker stores the failure:
    # tests/emails/test_worker_email.py reads it back through get_result).
    with (
        pytest.raises(ValueError, match="boom"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        explode.enqueue()
    assert signals[-1] == ("finished", "FAILED")


def test_a_rolled_back_enqueue_queues_nothing(django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                result = add.enqueue(1, 1)
                raise RuntimeError
        except RuntimeError:
            pass
    assert callbacks == []
    with pytest.raises(TaskResultDoesNotExist):
        task_backends["default"].get_result(result.id)


def test_unknown_result_ids_raise_the_documented_exception():
    with pytest.raises(TaskResultDoesNotExist):
        task_backends["default"].get_result("no-such-result")


def test_run_after_becomes_a_one_off_schedule(django_capture_on_commit_callbacks):
    when = timezone.now() + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        result = add.using(run_after=when).enqueue(4, 5)
    schedule = Schedule.objects.get(name=f"django_tasks-{result.id}")
    assert schedule.schedule_type == Schedule.ONCE
    assert schedule.next_run == when
    assert schedule.func == "wagtail_journey.tasks_backend.run_task"


def test_priorities_are_refused_when_the_task_is_declared():
    with pytest.raises(InvalidTaskError, match="priority"):
        task(priority=10)(add.func)


def test_wagtails_own_reference_index_task_runs_through_it(
    home_page, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        result = update_reference_index_task.enqueue("wagtailcore", "page", str(home_page.pk))
    fetched = task_backends["default"].get_result(result.id)
    assert fetched.status == TaskResultStatus.SUCCESSFUL
    assert fetched.task.func is update_reference_index_task.func
    assert ReferenceIndex.is_indexed(Page)

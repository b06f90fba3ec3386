"""A ``django_tasks`` backend that runs tasks on django-q2, so one ``qcluster`` runs all jobs.

Wagtail 8 queues its own background jobs (reference index and search updates,
file deletions) through the ``django_tasks`` backport, inline by default.
With this backend they go to django-q2 like the package's own jobs::

    TASKS = {"default": {"BACKEND": "wagtail_journey.tasks_backend.DjangoQBackend"}}

``enqueue`` pushes a trampoline (:func:`run_task`) with the task's dotted path;
the worker imports the task, sends ``task_started``, runs it and sends
``task_finished``, and django-q2 stores the outcome in its ``Task`` table under
the result id (as the django-q2 task *name*), which :meth:`get_result` reads.
Tasks are pushed when the enqueuing transaction commits. A ``run_after``
becomes a one-off django-q2 schedule (the scheduler ticks about every 30 s, so
deferred runs are that coarse).

Known limits: django-q2 keeps no record of a task until it has finished, so a
queued or running task's result is not found (``TaskResultDoesNotExist``); and
priorities are not supported. Everything the backend needs from ``django_tasks``
is imported at the top of this module, so serving Django 6's ``django.tasks``
means importing the same names from there (the API is the same).
"""

from __future__ import annotations

import traceback
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import TaskResult, TaskResultStatus, task_backends
from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import Task, TaskContext, TaskError
from django_tasks.exceptions import TaskResultDoesNotExist
from django_tasks.signals import task_enqueued, task_finished, task_started
from django_tasks.utils import get_module_path, get_random_id, normalize_json

TRAMPOLINE = "wagtail_journey.tasks_backend.run_task"
GROUP = "django_tasks"


class DjangoQBackend(BaseTaskBackend):
    """Enqueue ``django_tasks`` tasks into django-q2 (any broker it is configured with)."""

    supports_defer = True
    supports_get_result = True
    supports_async_task = False
    supports_priority = False

    def enqueue(self, task: Task, args: Any, kwargs: Any) -> TaskResult:
        from django_q.tasks import async_task, schedule

        self.validate_task(task)
        result_id = get_random_id()
        args, kwargs = normalize_json(list(args)), normalize_json(dict(kwargs))
        result = TaskResult(
            task=task,
            id=result_id,
            status=TaskResultStatus.READY,
            enqueued_at=timezone.now(),
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        payload = (task.module_path, result_id, args, kwargs, self.alias)
        run_after = task.run_after

        def push() -> None:
            if run_after is not None:
                schedule(
                    TRAMPOLINE,
                    *payload,
                    name=f"django_tasks-{result_id}",
                    schedule_type="O",
                    repeats=1,
                    next_run=run_after,
                    q_options={"task_name": result_id, "group": GROUP},
                )
            else:
                async_task(TRAMPOLINE, *payload, task_name=result_id, group=GROUP)

        # Sent before the push: with django-q2's sync mode the task runs inside it.
        task_enqueued.send(type(self), task_result=result)
        # Pushed when the caller's transaction commits (at once outside one):
        # Wagtail enqueues its reference-index update from post_save, and a
        # worker reading the broker (Redis) must not look for a row that is not
        # committed yet; a rolled-back save queues nothing.
        transaction.on_commit(push)
        return result

    def get_result(self, result_id: str) -> TaskResult:
        from django_q.models import Task as QTask

        row = QTask.objects.filter(name=result_id, group=GROUP).order_by("-stopped").first()
        if row is None:
            raise TaskResultDoesNotExist(result_id)
        path, _id, args, kwargs, _alias = row.args
        try:
            task = _resolve(path)
        except (ImportError, TypeError) as exc:
            raise TaskResultDoesNotExist(result_id) from exc
        errors = []
        if not row.success:
            errors.append(
                TaskError(exception_class_path="builtins.Exception", traceback=str(row.result))
            )
        result = TaskResult(
            task=task,
            id=result_id,
            status=TaskResultStatus.SUCCESSFUL if row.success else TaskResultStatus.FAILED,
            enqueued_at=row.started,
            started_at=row.started,
            last_attempted_at=row.started,
            finished_at=row.stopped,
            args=list(args),
            kwargs=dict(kwargs),
            backend=self.alias,
            errors=errors,
            worker_ids=[row.cluster or ""],
        )
        if row.success:
            object.__setattr__(result, "_return_value", row.result)
        return result


def _resolve(path: str) -> Task:
    task = import_string(path)
    if not isinstance(task, Task):
        raise TypeError(f"{path} is not a django_tasks task")
    return task


def run_task(path: str, result_id: str, args: list, kwargs: dict, alias: str) -> Any:
    """Runs in the django-q2 worker: the task, between the started/finished signals.

    An exception propagates, so django-q2 records the failure (and retries per
    its own settings, as for any of its tasks).
    """
    task = _resolve(path)
    backend_class = type(task_backends[alias])
    now = timezone.now()
    result = TaskResult(
        task=task,
        id=result_id,
        status=TaskResultStatus.RUNNING,
        enqueued_at=None,
        started_at=now,
        last_attempted_at=now,
        finished_at=None,
        args=args,
        kwargs=kwargs,
        backend=alias,
        errors=[],
        worker_ids=[get_random_id()],
    )
    task_started.send(sender=backend_class, task_result=result)
    try:
        if task.takes_context:
            value = task.call(TaskContext(task_result=result), *args, **kwargs)
        else:
            value = task.call(*args, **kwargs)
    except BaseException as exc:
        result.errors.append(
            TaskError(
                exception_class_path=get_module_path(type(exc)),
                traceback="".join(traceback.format_exception(exc)),
            )
        )
        object.__setattr__(result, "status", TaskResultStatus.FAILED)
        object.__setattr__(result, "finished_at", timezone.now())
        task_finished.send(sender=backend_class, task_result=result)
        raise
    value = normalize_json(value)
    object.__setattr__(result, "_return_value", value)
    object.__setattr__(result, "status", TaskResultStatus.SUCCESSFUL)
    object.__setattr__(result, "finished_at", timezone.now())
    task_finished.send(sender=backend_class, task_result=result)
    return value

"""Run a function in several threads at once, as concurrent requests or workers would."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connections


def run_in_threads(func: Callable[[], object], count: int, timeout: float = 120) -> list[Exception]:
    """Start ``count`` threads on ``func`` together; return what they raised.

    Each thread closes its own database connections when done (Django opens
    one per thread), so the test database can be dropped afterwards.
    """
    errors: list[Exception] = []
    barrier = threading.Barrier(count)

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            func()
        except Exception as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    hung = [t for t in threads if t.is_alive()]
    if hung:  # a deadlock or a lost wake-up: never report it as "no errors"
        errors.append(TimeoutError(f"{len(hung)} of {count} threads still running"))
    return errors

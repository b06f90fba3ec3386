"""record() under real concurrency, on PostgreSQL (`make test-postgres`).

Each test starts N threads, each with its own database connection, lines them
up on a barrier and lets them call record() at the same moment, then checks
the invariants that must hold whatever the interleaving. SQLite serialises
writers (IMMEDIATE transactions), so these races exist only on a real server.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from wagtail_journey import record
from wagtail_journey.events import reaction
from wagtail_journey.models import Contact, Touchpoint, Visitor

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

N = 8


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL: run `make test-postgres`")


def run_at_once(funcs: list[Callable[[], Any]], timeout: float = 60) -> list[Any]:
    """Run each function in its own thread, all released together by a barrier.

    Every thread connects before the barrier (so connection set-up does not
    spread the start) and closes its connection when done. Returns the results
    in order; re-raises the first exception a thread raised.
    """
    barrier = threading.Barrier(len(funcs))
    results: list[Any] = [None] * len(funcs)
    errors: list[BaseException] = []

    def worker(i: int, func: Callable[[], Any]) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=timeout)
            results[i] = func()
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=worker, args=(i, f), name=f"record-{i}")
        for i, f in enumerate(funcs)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a thread is stuck (deadlock?)"
    if errors:
        raise errors[0]
    return results


def test_simultaneous_records_for_a_new_address_create_one_contact():
    spellings = [
        "Race@Example.com",
        "  race@example.com ",
        "RACE@EXAMPLE.COM\n",
        "race@Example.COM",
    ]
    emails = [spellings[i % len(spellings)] for i in range(N)]

    tps = run_at_once([lambda e=e: record("form_submitted", email=e) for e in emails])

    contact = Contact.objects.get()
    assert contact.email == "race@example.com"
    assert {tp.contact_id for tp in tps} == {contact.pk}
    assert Touchpoint.objects.filter(kind="form_submitted").count() == N
    assert contact.touchpoints.count() == N
    contact.refresh_from_db()
    assert contact.last_activity_at == max(tp.occurred_at for tp in tps)


def test_simultaneous_records_for_unicode_spellings_create_one_contact():
    nfc = "ana@exämple.com"
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    emails = [nfc if i % 2 else f" {nfd.upper()}" for i in range(N)]

    tps = run_at_once([lambda e=e: record("form_submitted", email=e) for e in emails])

    contact = Contact.objects.get()
    assert contact.email == nfc
    assert {tp.contact_id for tp in tps} == {contact.pk}


@pytest.mark.parametrize("who", ["known contact", "new address"])
def test_simultaneous_records_with_one_dedupe_key_store_one_touchpoint(clean_reactions, who):
    """The same fact (a webhook retried, an order event sent twice) arriving at once.

    With a known contact every caller reaches the dedupe check together; with a
    new address the contact race comes first and the dedupe race behind it.
    """
    ran = []

    @reaction("count", order=1)
    def count(tp):
        ran.append(tp.pk)

    if who == "known contact":
        buyer = Contact.objects.create(email="buyer@example.com")
        who_kwargs = [{"contact": buyer} for _ in range(N)]
    else:
        who_kwargs = [{"email": f"Buyer@Example.com{' ' * i}"} for i in range(N)]

    tps = run_at_once(
        [
            lambda i=i: record(
                "order_completed", dedupe_key="order:1", properties={"caller": i}, **who_kwargs[i]
            )
            for i in range(N)
        ]
    )

    stored = Touchpoint.objects.get(dedupe_key="order:1")
    assert Touchpoint.objects.count() == 1
    assert Contact.objects.count() == 1
    assert stored.contact.email == "buyer@example.com"
    assert {tp.pk for tp in tps} == {stored.pk}  # every caller gets the stored fact back
    assert sum(tp.is_new for tp in tps) == 1  # exactly one caller stored it ...
    assert ran == [stored.pk]  # ... and its reactions ran once


def test_page_views_racing_an_identification_all_join_the_contact():
    """A visitor identified while its page views are being recorded.

    Requests hold the Visitor they loaded from the cookie when they started,
    so most page views below carry a stale, anonymous visitor. Whichever
    commits first, no touchpoint of an identified visitor may stay anonymous.
    """
    visitor = Visitor.objects.create()
    per_thread = 15

    def browse() -> None:
        stale = Visitor.objects.get(pk=visitor.pk)  # loaded at the start of the "request"
        for _ in range(per_thread):
            record("page_view", visitor=stale)

    def identify():
        return record("form_submitted", visitor=Visitor.objects.get(pk=visitor.pk), email="v@x.org")

    results = run_at_once([identify] + [browse] * (N - 1))

    contact = results[0].contact
    visitor.refresh_from_db()
    assert visitor.contact_id == contact.pk
    assert Touchpoint.objects.filter(visitor=visitor).count() == (N - 1) * per_thread + 1
    assert not Touchpoint.objects.filter(visitor=visitor, contact__isnull=True).exists()
    assert contact.touchpoints.count() == (N - 1) * per_thread + 1


def test_a_shared_browser_identified_twice_at_once_ends_linked_to_one_of_them():
    visitor = Visitor.objects.create()
    record("page_view", visitor=visitor)
    emails = [f"person{i}@example.com" for i in range(N)]

    tps = run_at_once(
        [
            lambda e=e: record(
                "form_submitted", visitor=Visitor.objects.get(pk=visitor.pk), email=e
            )
            for e in emails
        ]
    )

    assert Contact.objects.count() == N
    assert all(tp.contact.email == e for tp, e in zip(tps, emails, strict=True))
    visitor.refresh_from_db()
    assert visitor.contact_id in {tp.contact_id for tp in tps}
    # The anonymous history went to exactly one of them, not lost nor split.
    first_view = Touchpoint.objects.get(visitor=visitor, kind="page_view")
    assert first_view.contact_id in {tp.contact_id for tp in tps}

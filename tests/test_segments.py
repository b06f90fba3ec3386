"""Segments: one queryset per rule set, materialised membership, incremental == rebuild."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.segment_helpers import group, make_segment, r
from wagtail_journey import record
from wagtail_journey.models import (
    Contact,
    ScoringRule,
    Segment,
    SegmentMembership,
    Touchpoint,
)
from wagtail_journey.segment_rules import RuleError
from wagtail_journey.segments import (
    import_static_csv,
    rebuild_all_segments,
    rebuild_segment,
    segment_problem,
    segment_queryset,
    update_contact_segments,
)
from wagtail_journey.tags import add_tags

pytestmark = pytest.mark.django_db


def emails(qs):
    return sorted(qs.values_list("email", flat=True))


def members(segment):
    return sorted(
        SegmentMembership.objects.filter(segment=segment).values_list("contact__email", flat=True)
    )


@pytest.fixture
def people(home_page, article):
    now = timezone.now()
    ana = Contact.objects.create(email="ana@example.com", score=60, lifecycle_stage="mql")
    bob = Contact.objects.create(email="bob@example.com", score=5, journey_stage="awareness")
    eve = Contact.objects.create(email="eve@example.com", first_touch={"source": "news"})
    record("page_view", contact=ana, page=article, occurred_at=now - timedelta(days=2))
    record("page_view", contact=bob, page=home_page, occurred_at=now - timedelta(days=40))
    record("form_submitted", contact=bob, page=article, properties={"form": "newsletter"})
    record("email_clicked", contact=eve, properties={"email": "welcome"})
    for total in (30, 80):
        record("order_completed", contact=eve, properties={"total": total})
    add_tags(ana, "vip")
    return ana, bob, eve


def test_each_rule_type_compiles_to_a_filter(people, home_page, article):
    cases = [
        (r("score", min=10, max=None), ["ana@example.com"]),
        (r("score", min=None, max=10), ["bob@example.com", "eve@example.com"]),
        (r("lifecycle_stage", stages=["mql", "sql"]), ["ana@example.com"]),
        (r("journey_stage", stages=["awareness"]), ["bob@example.com"]),
        (r("tag", tag="vip"), ["ana@example.com"]),
        (r("tag", tag="vip", negate=True), ["bob@example.com", "eve@example.com"]),
        (
            r("visited_page", page=article.pk, include_subpages=False, within_days=None),
            ["ana@example.com"],
        ),
        (
            r("visited_page", page=home_page.pk, include_subpages=True, within_days=None),
            ["ana@example.com", "bob@example.com"],
        ),
        (
            r("visited_page", page=home_page.pk, include_subpages=True, within_days=7),
            ["ana@example.com"],
        ),
        (
            r("submitted_form", page=article.pk, form="newsletter", within_days=None),
            ["bob@example.com"],
        ),
        (r("submitted_form", page=article.pk, form="other", within_days=None), []),
        (r("email", action="email_clicked", email="welcome", within_days=30), ["eve@example.com"]),
        (r("email", action="email_opened", email="", within_days=None), []),
        (
            r("event_count", kind="order_completed", at_least=2, within_days=None),
            ["eve@example.com"],
        ),
        (r("event_count", kind="order_completed", at_least=3, within_days=None), []),
        (
            r(
                "event_sum",
                kind="order_completed",
                property="total",
                at_least=100,
                within_days=None,
            ),
            ["eve@example.com"],
        ),
        (
            r(
                "event_sum",
                kind="order_completed",
                property="total",
                at_least=111,
                within_days=None,
            ),
            [],
        ),
        (
            r("last_activity", when="after", days=7),
            ["ana@example.com", "bob@example.com", "eve@example.com"],
        ),
        (r("last_activity", when="before", days=7), []),
        (
            r("created", when="after", days=1),
            ["ana@example.com", "bob@example.com", "eve@example.com"],
        ),
        (r("source", touch="first_touch", field="source", value="news"), ["eve@example.com"]),
    ]
    for rule, expected in cases:
        segment = make_segment("s", group(rule))
        assert emails(segment_queryset(segment)) == expected, rule


def test_groups_combine_with_and_or(people, article):
    vip_or_rich = group(
        r("tag", tag="vip"),
        r("event_sum", kind="order_completed", property="total", at_least=100, within_days=None),
        match="any",
    )
    visited = group(r("visited_page", page=article.pk, include_subpages=False, within_days=None))
    both = make_segment("and", vip_or_rich, visited, match="all")
    either = make_segment("or", vip_or_rich, visited, match="any")
    assert emails(segment_queryset(both)) == ["ana@example.com"]
    assert emails(segment_queryset(either)) == ["ana@example.com", "eve@example.com"]
    empty = make_segment("empty")
    assert emails(segment_queryset(empty)) == []
    assert rebuild_segment(empty) == (0, 0)
    update_contact_segments(people[0].pk)


def test_a_segment_is_one_query(people, article, django_assert_num_queries):
    segment = make_segment(
        "complex",
        group(
            r("visited_page", page=article.pk, include_subpages=True, within_days=30),
            r("event_count", kind="order_completed", at_least=2, within_days=None),
            r("tag", tag="vip"),
            match="any",
        ),
        group(r("score", min=0, max=None), r("last_activity", when="after", days=90)),
    )
    segment = Segment.objects.get(pk=segment.pk)
    qs = segment_queryset(segment)  # compiling reads the chosen pages (one query)
    with django_assert_num_queries(1):
        assert len(list(qs)) == 2


def test_full_rebuild_applies_the_difference_and_records_enter_and_leave(
    people, django_capture_on_commit_callbacks
):
    ana, bob, eve = people
    segment = make_segment("scored", group(r("score", min=10, max=None)))
    with django_capture_on_commit_callbacks(execute=True):
        assert rebuild_segment(segment) == (1, 0)
    assert members(segment) == ["ana@example.com"]
    entered = SegmentMembership.objects.get(segment=segment).entered_at
    assert rebuild_segment(segment) == (0, 0)  # idempotent
    Contact.objects.filter(pk=bob.pk).update(score=20)
    Contact.objects.filter(pk=ana.pk).update(score=0)
    assert rebuild_segment(segment) == (1, 1)
    assert members(segment) == ["bob@example.com"]
    kinds = list(
        Touchpoint.objects.filter(kind__startswith="segment_")
        .order_by("id")
        .values_list("kind", "contact__email")
    )
    assert kinds == [
        ("segment_entered", "ana@example.com"),
        ("segment_entered", "bob@example.com"),
        ("segment_left", "ana@example.com"),
    ]
    segment.refresh_from_db()
    assert segment.member_count == 1 and segment.last_rebuilt_at >= entered


def test_a_rule_on_a_deleted_page_fails_clearly(people, article):
    segment = make_segment(
        "readers",
        group(r("visited_page", page=article.pk, include_subpages=False, within_days=None)),
    )
    assert segment_problem(segment) == ""
    article.delete()
    segment = Segment.objects.get(pk=segment.pk)
    assert "no longer exists" in segment_problem(segment)
    with pytest.raises(RuleError):
        rebuild_segment(segment)
    segment.refresh_from_db()
    assert "no longer exists" in segment.error
    assert isinstance(rebuild_all_segments()[segment.pk], str)


def test_static_segment_csv_import():
    Contact.objects.create(email="ana@example.com")
    Contact.objects.create(email="bob@example.com")
    segment = make_segment("picked", kind=Segment.Kind.STATIC)
    added, unknown = import_static_csv(
        segment, b"name,Email\nAna, ANA@example.com \nX,nobody@example.com\nBob,bob@example.com\n"
    )
    assert (added, unknown) == (2, ["nobody@example.com"])
    assert import_static_csv(segment, "ana@example.com\n") == (0, [])
    assert emails(segment_queryset(segment)) == ["ana@example.com", "bob@example.com"]
    assert rebuild_segment(segment) == (0, 0)  # never recomputed from rules
    assert Touchpoint.objects.filter(kind="segment_entered").count() == 2


def test_incremental_update_is_a_fixed_number_of_queries(home_page, article):
    for i in range(20):
        ScoringRule.objects.create(
            name=f"r{i}", kind="page_view" if i % 2 else "email_opened", points=i
        )
    for i in range(50):
        make_segment(
            f"seg{i}",
            group(
                r("score", min=i, max=None),
                r("visited_page", page=article.pk, include_subpages=True, within_days=30),
                r("tag", tag=f"t{i % 5}", negate=True),
                match="any" if i % 2 else "all",
            ),
            group(r("event_count", kind="email_opened", at_least=2, within_days=7)),
            match="any",
        )

    def queries_for_one_touchpoint(n_contacts):
        Contact.objects.bulk_create(
            [Contact(email=f"bulk{n_contacts}-{i}@example.com") for i in range(n_contacts)]
        )
        contact = Contact.objects.create(email=f"probe{n_contacts}@example.com")
        record("page_view", contact=contact, page=article)
        update_contact_segments(contact.pk)  # enters the segments it now matches
        record("page_view", contact=contact, page=article)
        with CaptureQueriesContext(connection) as ctx:
            update_contact_segments(contact.pk)
        # The test's own transaction adds a savepoint pair (the worker runs in autocommit).
        return len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]])

    small, large = queries_for_one_touchpoint(5), queries_for_one_touchpoint(500)
    # segment list, one query testing all 50 segments, current memberships.
    assert small == large == 3


def test_incremental_update_within_max_queries(article, django_assert_max_num_queries):
    for i in range(50):
        make_segment(f"seg{i}", group(r("score", min=i, max=None)))
    Contact.objects.bulk_create([Contact(email=f"c{i}@example.com") for i in range(300)])
    contact = Contact.objects.create(email="probe@example.com", score=10)
    update_contact_segments(contact.pk)  # warm the compiled-rules cache
    Contact.objects.filter(pk=contact.pk).update(score=30)
    # 20 segments entered: the same handful of statements as for one (one of them
    # recounts their members; two are the test transaction's savepoint pair).
    with django_assert_max_num_queries(12):
        entered, left = update_contact_segments(contact.pk)
    assert len(entered) == 20 and left == []


# --- property: incremental membership == full rebuild ------------------------------

actions = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.sampled_from(["page_view", "order_completed", "email_opened", "tag", "untag"]),
        st.integers(0, 40),
    ),
    max_size=20,
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=actions)
def test_incremental_membership_equals_full_rebuild(
    actions, article, django_capture_on_commit_callbacks
):
    from wagtail_journey.tags import remove_tags

    Contact.objects.all().delete()
    Segment.objects.all().delete()
    ScoringRule.objects.all().delete()
    ScoringRule.objects.create(name="view", kind="page_view", points=5)
    ScoringRule.objects.create(name="order", kind="order_completed", points=20)
    segments = [
        make_segment("hot", group(r("score", min=15, max=None))),
        make_segment(
            "readers",
            group(r("visited_page", page=article.pk, include_subpages=False, within_days=14)),
        ),
        make_segment(
            "buyers or vip",
            group(
                r("event_count", kind="order_completed", at_least=2, within_days=None),
                r("tag", tag="vip"),
                match="any",
            ),
            group(r("email", action="email_opened", email="", within_days=None, negate=True)),
        ),
    ]
    contacts = [Contact.objects.create(email=f"h{i}@example.com") for i in range(4)]
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        for who, action, days in actions:
            c = contacts[who]
            if action == "tag":
                add_tags(c, "vip")
            elif action == "untag":
                remove_tags(c, "vip")
            else:
                record(action, contact=c, page=article, occurred_at=now - timedelta(days=days))
    incremental = {s.pk: members(s) for s in segments}
    for s in segments:
        rebuild_segment(s, record=False)
    assert {s.pk: members(s) for s in segments} == incremental

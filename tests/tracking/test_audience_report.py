"""The Audience report: what editors read of the anonymous daily counts, and who may read it."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from demo.models import ArticlePage
from wagtail_journey import record
from wagtail_journey.models import DailyPageStat, Visitor
from wagtail_journey.tracking import audience

pytestmark = pytest.mark.django_db

URL = "/admin/journey/audience/"


def stat(page, days_ago: int, views: int, visitors: int, source: str = "") -> DailyPageStat:
    return DailyPageStat.objects.create(
        day=timezone.localdate() - timedelta(days=days_ago),
        page=page,
        source=source,
        views=views,
        visitors=visitors,
    )


def page_view(page, days_ago: int, *, audience_only: bool) -> None:
    visitor = Visitor.objects.create(
        audience_only=audience_only, consented_at=None if audience_only else timezone.now()
    )
    record(
        "page_view",
        visitor=visitor,
        page=page,
        occurred_at=timezone.now() - timedelta(days=days_ago),
    )


@pytest.fixture
def reader(client, django_user_model):
    """An editor whose group may open the admin and read the Audience report, nothing else."""
    user = django_user_model.objects.create_user("reader", password="pw")
    group = Group.objects.create(name="Marketing readers")
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="view_dailypagestat"),
    )
    user.groups.add(group)
    client.force_login(user)
    return client


@pytest.fixture
def stranger(django_user_model):
    """An editor who may open the admin but not the report."""
    user = django_user_model.objects.create_user("stranger", password="pw")
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client = Client()
    client.force_login(user)
    return client


def test_sources_add_up_per_day_and_page_and_the_period_bounds_rows(home_page, article):
    stat(article, 0, views=5, visitors=3, source="newsletter")
    stat(article, 0, views=2, visitors=1, source="")
    stat(home_page, 0, views=9, visitors=4)
    stat(article, 1, views=1, visitors=1)
    stat(article, 40, views=100, visitors=50)  # outside the default 30 days
    start, end = audience.default_period()
    rows = list(audience.page_day_rows(start, end))
    today = timezone.localdate()
    assert [(r["day"], r["page_title"], r["views"], r["visitors"]) for r in rows] == [
        (today, "Home", 9, 4),
        (today, "Article", 7, 4),
        (today - timedelta(days=1), "Article", 1, 1),
    ]
    assert [r["views"] for r in audience.page_day_rows(start, end, article.pk)] == [7, 1]


def test_summary_has_every_day_and_separates_consented_from_anonymous_views(article):
    stat(article, 0, views=7, visitors=4)
    stat(article, 2, views=3, visitors=2)
    page_view(article, 0, audience_only=False)
    page_view(article, 0, audience_only=False)
    page_view(article, 2, audience_only=True)
    record("form_submitted", visitor=Visitor.objects.first(), page=article)  # not a page view
    today = timezone.localdate()
    summary = audience.summary(today - timedelta(days=2), today)
    assert [
        (d.day, d.anonymous_views, d.anonymous_visitors, d.consented_views, d.audience_views)
        for d in summary.days
    ] == [
        (today, 7, 4, 2, 0),
        (today - timedelta(days=1), 0, 0, 0, 0),
        (today - timedelta(days=2), 3, 2, 0, 1),
    ]
    totals = summary.totals
    assert (totals.anonymous_views, totals.anonymous_visitors, totals.all_views) == (10, 6, 13)


def test_periods_default_to_30_days_and_never_exceed_a_year():
    today = timezone.localdate()
    assert audience.clamp_period(None, None) == (today - timedelta(days=29), today)
    start, end = audience.clamp_period(today - timedelta(days=1000), today)
    assert (end - start).days + 1 == audience.MAX_DAYS and end == today
    assert audience.clamp_period(today, today - timedelta(days=3)) == (
        today - timedelta(days=3),
        today,
    )


def test_reader_sees_totals_rows_and_escaped_page_titles(reader, article):
    article.title = "<script>alert(1)</script> Pricing"
    article.save_revision().publish()
    stat(article, 0, views=1234, visitors=321, source="ads")
    stat(article, 3, views=10, visitors=5)
    stat(article, 45, views=999, visitors=99)  # before the default period
    page_view(article, 0, audience_only=False)

    response = reader.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Pricing" in html
    summary = response.context["summary"]
    assert (summary.totals.anonymous_views, summary.totals.anonymous_visitors) == (1244, 326)
    assert summary.totals.consented_views == 1
    assert 'data-total="anonymous_views">1,244<' in html
    assert [r["views"] for r in response.context["object_list"]] == [1234, 10]
    assert f"/admin/pages/{article.pk}/edit/" in html
    # The default period is in the form, not an "active filter" to remove.
    today = timezone.localdate()
    assert f'value="{(today - timedelta(days=29)).isoformat()}"' in html
    assert response.context["is_filtering"] is False


def test_date_and_page_filters_narrow_the_report(reader, home_page, article):
    stat(article, 45, views=999, visitors=99)
    stat(article, 0, views=5, visitors=2)
    stat(home_page, 0, views=7, visitors=3)
    day = timezone.localdate() - timedelta(days=45)
    response = reader.get(URL, {"day_from": day.isoformat(), "day_to": day.isoformat()})
    assert [r["views"] for r in response.context["object_list"]] == [999]
    assert response.context["summary"].totals.anonymous_views == 999

    response = reader.get(URL, {"page": home_page.pk})
    assert [r["page_title"] for r in response.context["object_list"]] == ["Home"]
    assert response.context["summary"].totals.anonymous_views == 7
    # The filter refresh (results only) renders the same numbers.
    results = reader.get(URL + "results/", {"page": home_page.pk})
    assert (
        results.status_code == 200 and 'data-total="anonymous_views">7<' in results.content.decode()
    )


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("fr", ["Pages vues anonymes", "Visiteurs uniques", "Par jour"]),
        ("pt-pt", ["Visualizações de página anónimas", "Visitantes únicos", "Por dia"]),
    ],
)
def test_the_report_reads_in_the_editors_language(reader, article, language, texts):
    from wagtail.users.models import UserProfile

    stat(article, 0, views=4, visitors=1)
    profile = UserProfile.get_for_user(reader.get(URL).wsgi_request.user)
    profile.preferred_language = language
    profile.save()
    html = reader.get(URL).content.decode()
    for text in texts:
        assert text in html
    assert "Anonymous page views" not in html


def test_invalid_filters_fall_back_to_the_default_period(reader, article):
    stat(article, 0, views=4, visitors=1)
    response = reader.get(URL, {"day_from": "not-a-date", "page": "abc"})
    assert response.status_code == 200
    assert response.context["summary"].totals.anonymous_views == 4


def test_without_the_permission_the_report_is_refused_and_not_in_the_menu(
    stranger, reader, article
):
    from wagtail.admin.menu import admin_menu

    stat(article, 0, views=5, visitors=2)
    # Wagtail turns the PermissionDenied into a redirect to the dashboard with a
    # message (Wagtail 7.4 answers some of these URLs 403 instead).
    for path, params in [(URL, {}), (URL + "results/", {}), (URL, {"export": "csv"})]:
        response = stranger.get(path, params)
        assert response.status_code in (302, 403)
        assert response.status_code == 403 or response["Location"] == "/admin/"
    followed = stranger.get(URL, follow=True).content.decode()
    assert "Sorry, you do not have permission to access this area." in followed

    def audience_shown(client) -> bool:
        request = client.get("/admin/").wsgi_request
        # Submenus (the Journey group among them), found by structure: names follow labels.
        groups = [i for i in admin_menu.menu_items_for_request(request) if hasattr(i, "menu")]
        return any(
            item.name == "audience" and item.url == URL
            for group in groups
            for item in group.menu.menu_items_for_request(request)
        )

    assert not audience_shown(stranger)
    assert audience_shown(reader)


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_permission_can_be_granted_in_settings_groups(admin_client):
    response = admin_client.get("/admin/groups/new/")
    permission = Permission.objects.get(codename="view_dailypagestat")
    assert f'value="{permission.pk}"' in response.content.decode()


def test_csv_export_has_one_row_per_day_and_page_with_headings(reader, home_page, article):
    stat(article, 0, views=5, visitors=3, source="newsletter")
    stat(article, 0, views=2, visitors=1)
    stat(home_page, 1, views=4, visitors=4)
    response = reader.get(URL, {"export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    today = timezone.localdate()
    start = today - timedelta(days=29)
    assert (
        f"audience-{start.isoformat()}-{today.isoformat()}.csv" in response["Content-Disposition"]
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        ["Day", "Page ID", "Page", "Anonymous page views", "Unique visitors"],
        [today.isoformat(), str(article.pk), "Article", "7", "4"],
        [(today - timedelta(days=1)).isoformat(), str(home_page.pk), "Home", "4", "4"],
    ]


def test_xlsx_export_follows_the_page_filter(reader, home_page, article):
    stat(article, 0, views=5, visitors=3)
    stat(home_page, 0, views=4, visitors=4)
    response = reader.get(URL, {"export": "xlsx", "page": article.pk})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["Day", "Page ID", "Page", "Anonymous page views", "Unique visitors"]
    assert [row[1:] for row in values[1:]] == [[article.pk, "Article", 5, 3]]


def test_the_report_runs_the_same_queries_for_many_rows(
    reader, home_page, django_assert_max_num_queries
):
    pages = [home_page]
    for i in range(5):
        page = ArticlePage(title=f"Page {i}", slug=f"page-{i}", summary="s")
        home_page.add_child(instance=page)
        pages.append(page)
    stat(home_page, 0, views=1, visitors=1)
    with django_assert_max_num_queries(30) as few:
        assert reader.get(URL).status_code == 200
    today = timezone.localdate()
    DailyPageStat.objects.bulk_create(
        DailyPageStat(day=today - timedelta(days=d), page=p, source=s, views=d + 1, visitors=1)
        for d in range(1, 30)
        for p in pages
        for s in ("", "ads", "newsletter")
    )
    for days_ago in range(5):
        page_view(pages[days_ago], days_ago, audience_only=days_ago % 2 == 0)
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        response = reader.get(URL)
    assert response.context["paginator"].count == 1 + 29 * len(pages)
    assert len(response.context["object_list"]) == 50
    assert len(many.captured_queries) == len(few.captured_queries)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = reader.get(URL, {"export": "csv"})
        assert len(b"".join(response.streaming_content).splitlines()) == 2 + 29 * len(pages)


def test_the_demo_fills_the_report_once():
    from django.core.management import call_command

    call_command("load_demo", stdout=io.StringIO())
    rows = sorted(DailyPageStat.objects.values_list("day", "page_id", "source", "views"))
    call_command("load_demo", stdout=io.StringIO())
    assert sorted(DailyPageStat.objects.values_list("day", "page_id", "source", "views")) == rows
    summary = audience.summary(*audience.default_period())
    busy_days = [d for d in summary.days if d.anonymous_views]
    assert len(busy_days) == 29  # every day of the period but today, left to real visits
    assert summary.totals.anonymous_visitors < summary.totals.anonymous_views


def test_an_editor_in_another_time_zone_sees_one_site_day_in_one_row(settings, reader, article):
    """Touchpoints and aggregates of a Paris day share a row for an editor in New York.

    03:00 in Paris is 21:00 the evening before in New York: cut in the
    editor's time zone, the consented view would land a row above the
    anonymous views the public site counted on the same Paris day.
    """
    from wagtail.users.models import UserProfile

    settings.TIME_ZONE = "Europe/Paris"
    profile = UserProfile.get_for_user(reader.get(URL).wsgi_request.user)
    profile.current_time_zone = "America/New_York"
    profile.save()
    paris = ZoneInfo("Europe/Paris")
    day = timezone.localdate(timezone=paris) - timedelta(days=3)
    DailyPageStat.objects.create(day=day, page=article, source="", views=5, visitors=2)
    visitor = Visitor.objects.create(audience_only=False, consented_at=timezone.now())
    record(
        "page_view",
        visitor=visitor,
        page=article,
        occurred_at=datetime.combine(day, time(3, 0), paris),
    )
    response = reader.get(
        URL,
        {
            "day_from": (day - timedelta(days=1)).isoformat(),
            "day_to": (day + timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 200
    rows = [(d.day, d.anonymous_views, d.consented_views) for d in response.context["summary"].days]
    assert rows == [(day + timedelta(days=1), 0, 0), (day, 5, 1), (day - timedelta(days=1), 0, 0)]

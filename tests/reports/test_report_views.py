"""The report pages as editors use them: figures, charts, exports and who may read them."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from openpyxl import load_workbook

from tests.reports.helpers import at, visit, visitor
from wagtail_journey import record
from wagtail_journey.models import Contact
from wagtail_journey.reports.rollup import rollup_range
from wagtail_journey.stages import set_lifecycle_stage
from wagtail_journey.tracking import audience

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/journey/reports/dashboard/"
FUNNEL = "/admin/journey/reports/funnel/"
LANDING = "/admin/journey/reports/landing-pages/"
DROPOFF = "/admin/journey/reports/drop-off/"
ATTRIBUTION = "/admin/journey/reports/attribution/"
JOURNEY_MAP = "/admin/journey/reports/journey-map/"


def editor(client, django_user_model, *codenames):
    user = django_user_model.objects.create_user("editor", password="pw")
    group = Group.objects.create(name="Report readers")
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        *Permission.objects.filter(codename__in=codenames),
    )
    user.groups.add(group)
    client.force_login(user)
    return client


def traffic(home_page, article, n_sessions: int = 3, days_ago: int = 2):
    """Sessions a few days ago: from Google ads (landing on the home page) and direct bounces."""
    today = timezone.localdate()
    day = today - timedelta(days=days_ago)
    for i in range(n_sessions):
        who = visitor()
        visit(who, [home_page, article], at(day, 9, i), utm={"source": "google", "medium": "cpc"})
        visit(visitor(), [article], at(day, 10, i))
    buyer = Contact.objects.create(email=f"buyer{n_sessions}@example.com")
    record(
        "order_completed",
        contact=buyer,
        occurred_at=at(day, 11),
        properties={"order_id": f"O{n_sessions}", "amount": "10.00"},
        dedupe_key=f"order:O{n_sessions}-{days_ago}",
    )
    record("form_submitted", contact=buyer, page=article, occurred_at=at(day, 10, 30))
    set_lifecycle_stage(buyer, "lead")
    rollup_range(today - timedelta(days=40), today)


def test_dashboard_shows_the_periods_figures_and_charts(
    client, django_user_model, home_page, article
):
    traffic(home_page, article)
    reader = editor(client, django_user_model, "view_traffic_reports")
    response = reader.get(DASHBOARD)
    assert response.status_code == 200
    html = response.content.decode()
    cards = {c.key: c for c in response.context["cards"]}
    assert cards["visitors"].value == 6
    assert cards["sessions"].value == 6
    assert cards["bounce_rate"].value == 50.0
    assert cards["orders"].value == 1
    assert cards["submissions"].value == 1
    assert cards["stage_lead"].value == 1
    assert cards["orders_per_customer"].value == 1.0
    assert 'data-wj-chart="wj-chart-sessions"' in html
    assert "<title>" in html and 'role="img"' in html
    assert "google / cpc" in html
    assert "style=" not in html.split("data-wj-dashboard")[1].split("</section>")[0]


def test_dashboard_compares_with_the_previous_period(client, django_user_model, home_page, article):
    traffic(home_page, article, n_sessions=2, days_ago=35)
    traffic(home_page, article, n_sessions=4, days_ago=3)
    reader = editor(client, django_user_model, "view_traffic_reports")
    cards = {c.key: c for c in reader.get(DASHBOARD).context["cards"]}
    assert (cards["sessions"].value, cards["sessions"].previous) == (8, 4)
    assert cards["sessions"].delta == "+100%"


def test_sources_export_adds_up_and_goes_through_wagtails_export(
    client, django_user_model, home_page, article
):
    traffic(home_page, article)
    reader = editor(client, django_user_model, "view_traffic_reports")
    response = reader.get(DASHBOARD, {"export": "csv"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    by_source = {r["Source / medium"]: r for r in rows}
    assert by_source["google / cpc"]["Sessions"] == "3"
    assert by_source["(direct)"]["Bounce rate (%)"] == "100.0"
    assert sum(int(r["Visitors (first source in the period)"]) for r in rows) == 6
    xlsx = reader.get(DASHBOARD, {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    assert sheet.max_row == 3


def test_landing_page_report_and_export(client, django_user_model, home_page, article):
    traffic(home_page, article)
    reader = editor(client, django_user_model, "view_traffic_reports")
    response = reader.get(LANDING)
    assert response.status_code == 200
    rows = {r.label: r for r in response.context["object_list"]}
    assert rows["Home"]["entries"] == 3
    assert rows["Home"]["bounce_rate"] == 0.0
    assert rows["Home"]["top_source"] == "google / cpc"
    assert rows["Article"]["form_submissions"] == 1
    export = reader.get(LANDING, {"export": "csv"})
    text = b"".join(export.streaming_content).decode()
    assert "Sessions started" in text and "google / cpc" in text


def test_funnel_and_dropoff(client, django_user_model, home_page, article):
    traffic(home_page, article)
    reader = editor(client, django_user_model, "view_funnel_reports")
    response = reader.get(FUNNEL)
    assert response.status_code == 200
    stages = {(r.scheme, r.stage): r for r in response.context["object_list"]}
    assert stages[("lifecycle", "lead")].contacts == 1
    assert stages[("lifecycle", "subscriber")].reached == 1
    assert stages[("lifecycle", "lead")].conversion == 100.0
    dropoff = response.context["dropoff"]
    exits = {r.label: r for r in dropoff["exits"]}
    assert exits["Article"]["exits"] == 6
    forms = {r.label: r for r in dropoff["forms"]}
    assert forms["Article"]["form_submissions"] == 1
    assert forms["Article"]["page_sessions"] == 6
    assert reader.get(FUNNEL, {"export": "xlsx"}).status_code == 200
    assert reader.get(DROPOFF, {"export": "csv"}).status_code == 200


@pytest.mark.parametrize("url", [DASHBOARD, LANDING, ATTRIBUTION, FUNNEL, DROPOFF, JOURNEY_MAP])
def test_reports_need_their_familys_permission(client, django_user_model, url):
    traffic_family = (DASHBOARD, LANDING, ATTRIBUTION)
    other = "view_funnel_reports" if url in traffic_family else "view_traffic_reports"
    reader = editor(client, django_user_model, other)
    response = reader.get(url)
    assert response.status_code == 302  # Wagtail's permission-denied redirect
    assert reader.get(url, {"export": "csv"}).status_code == 302


def test_reports_menu_and_home_panel_follow_permissions(
    client, django_user_model, home_page, article
):
    traffic(home_page, article)
    reader = editor(client, django_user_model, "view_traffic_reports")
    html = reader.get("/admin/").content.decode()
    assert "data-wj-dashboard-panel" in html
    assert DASHBOARD in html and LANDING in html
    assert FUNNEL not in html


def test_bad_period_falls_back_to_the_default(client, django_user_model):
    reader = editor(client, django_user_model, "view_traffic_reports")
    response = reader.get(DASHBOARD, {"day_from": "yesterday", "day_to": "<script>"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="&lt;script&gt;"' in html and 'value="<script>"' not in html
    start, end = audience.default_period()
    assert (response.context["period_start"], response.context["period_end"]) == (start, end)


@pytest.mark.parametrize("url", [DASHBOARD, LANDING, ATTRIBUTION, FUNNEL, DROPOFF, JOURNEY_MAP])
def test_query_counts_do_not_grow_with_rows(
    client, django_user_model, home_page, article, django_assert_max_num_queries, url
):
    reader = editor(client, django_user_model, "view_traffic_reports", "view_funnel_reports")
    traffic(home_page, article, n_sessions=1)
    with django_assert_max_num_queries(60) as small:
        reader.get(url)
    traffic(home_page, article, n_sessions=12, days_ago=5)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert reader.get(url).status_code == 200


@pytest.mark.parametrize(
    ("language", "title", "card"),
    [
        ("fr", "Tableau de bord du parcours", "Taux de rebond"),
        ("pt", "Painel do percurso", "Taxa de rejeição"),
    ],
)
def test_dashboard_speaks_the_editors_language(
    client, django_user_model, home_page, article, language, title, card
):
    from wagtail.users.models import UserProfile

    traffic(home_page, article)
    reader = editor(client, django_user_model, "view_traffic_reports")
    profile = UserProfile.get_for_user(django_user_model.objects.get(username="editor"))
    profile.preferred_language = language
    profile.save()
    html = reader.get(DASHBOARD).content.decode()
    assert title in html and card in html


def test_attribution_report_compares_models_and_exports(
    client, django_user_model, home_page, article
):
    buyer = Contact.objects.create(email="ad-buyer@example.com")
    who = visitor(contact=buyer)
    day = timezone.localdate() - timedelta(days=2)
    visit(who, [home_page], at(day, 8), utm={"source": "google", "medium": "cpc", "campaign": "x"})
    record(
        "order_completed",
        contact=buyer,
        occurred_at=at(day, 9),
        properties={"order_id": "AT1", "amount": "42.00"},
        dedupe_key="order:AT1",
    )
    record("form_submitted", contact=buyer, page=article, occurred_at=at(day, 8, 30))
    rollup_range(day, day)
    reader = editor(client, django_user_model, "view_traffic_reports")
    response = reader.get(ATTRIBUTION)
    assert response.status_code == 200
    rows = {r["channel"]: r for r in response.context["object_list"]}
    assert rows["google / cpc / x"]["first"] == 1.0
    assert "Time decay" in response.content.decode()
    forms = reader.get(ATTRIBUTION, {"conversion": "submission"}).context["object_list"]
    assert [r["channel"] for r in forms] == ["google / cpc / x"]
    export = reader.get(ATTRIBUTION, {"export": "csv"})
    text = b"".join(export.streaming_content).decode()
    assert "Value: Linear" in text and "42.0" in text


def test_journey_map_after_a_form_submission(client, django_user_model, home_page, article):
    traffic(home_page, article)
    reader = editor(client, django_user_model, "view_funnel_reports")
    response = reader.get(JOURNEY_MAP, {"start": "form_submitted"})
    assert response.status_code == 200
    moves = [(e.step, e.source, e.target, e.contacts) for e in response.context["object_list"]]
    assert moves == [(1, "form_submitted", "order_completed", 1)]
    assert 'data-wj-chart="wj-chart-step-1"' in response.content.decode()
    export = reader.get(JOURNEY_MAP, {"start": "form_submitted", "export": "csv"})
    assert "order_completed" in b"".join(export.streaming_content).decode()
    assert reader.get(JOURNEY_MAP, {"start": "nonsense", "segment": "x"}).status_code == 200


def test_group_editor_lists_the_report_permissions(admin_client):
    html = admin_client.get("/admin/groups/new/").content.decode()
    assert "Can view the dashboard, landing page and attribution reports" in html
    assert "Can view the funnel, drop-off and journey map reports" in html


@pytest.mark.parametrize("url", [DASHBOARD, LANDING, ATTRIBUTION, FUNNEL, DROPOFF, JOURNEY_MAP])
def test_filter_refreshes_through_the_results_url(client, django_user_model, url):
    reader = editor(client, django_user_model, "view_traffic_reports", "view_funnel_reports")
    response = reader.get(f"{url}results/", {"day_from": "2026-01-01", "day_to": "2026-01-31"})
    assert response.status_code == 200
    assert response.context["period_start"].isoformat() == "2026-01-01"
    assert b"<html" not in response.content


def test_a_formula_in_a_utm_source_is_exported_as_text(client, django_user_model, home_page):
    visit(visitor(), [home_page], at(timezone.localdate(), 0, 1), utm={"source": "=HYPERLINK(1)"})
    rollup_range(timezone.localdate(), timezone.localdate())
    reader = editor(client, django_user_model, "view_traffic_reports")
    text = b"".join(reader.get(DASHBOARD, {"export": "csv"}).streaming_content).decode()
    assert "'=HYPERLINK(1)" in text
    assert reader.get(DASHBOARD, {"day_from": "2026\x00"}).status_code == 400

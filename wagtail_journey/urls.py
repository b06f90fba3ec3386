"""Public endpoints of wagtail_journey; include under any prefix::

path("journey/", include("wagtail_journey.urls")),
"""

from django.urls import path

from wagtail_journey import views
from wagtail_journey.emails.clicks import click_view
from wagtail_journey.emails.unsubscribe import unsubscribe_view
from wagtail_journey.flows.referrals import referral_view
from wagtail_journey.privacy import export_views, preference_views
from wagtail_journey.privacy import views as privacy_views
from wagtail_journey.tracking.collect import collect
from wagtail_journey.tracking.cookie_settings import cookie_settings
from wagtail_journey.tracking.shop import shop_event

app_name = "wagtail_journey"

urlpatterns = [
    path("health/", views.health, name="health"),
    path("collect/", collect, name="collect"),
    path("cookies/", cookie_settings, name="cookie_settings"),
    path("shop/events/", shop_event, name="shop_event"),
    path("confirm/<str:token>/", privacy_views.confirm_consent, name="confirm"),
    path("privacy/export/<str:token>/", export_views.export_download, name="export_download"),
    path("privacy/export-schema/v1.json", export_views.export_schema, name="export_schema"),
    path("unsubscribe/<str:token>/", unsubscribe_view, name="unsubscribe"),
    path("preferences/", preference_views.preference_centre, name="preferences"),
    path(
        "preferences/open/<str:token>/",
        preference_views.open_preferences,
        name="preferences_open",
    ),
    path(
        "preferences/erase/<str:token>/",
        preference_views.confirm_erasure,
        name="preferences_erase",
    ),
    path("email/click/<str:token>/", click_view, name="email_click"),
    path("r/<str:token>/", referral_view, name="referral"),
]

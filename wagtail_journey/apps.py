"""Django app configuration for wagtail_journey."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WagtailJourneyConfig(AppConfig):
    name = "wagtail_journey"
    label = "wagtail_journey"
    verbose_name = _("Journey")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registering checks and the built-in reactions needs the app registry;
        # both modules are light and only define functions.
        from wagtail_journey import checks, reactions  # noqa: F401

"""Django app configuration for wagtail_journey."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WagtailJourneyConfig(AppConfig):
    name = "wagtail_journey"
    label = "wagtail_journey"
    verbose_name = _("Journey")
    default_auto_field = "django.db.models.BigAutoField"

    def import_models(self) -> None:
        """Load the page types (pages.py) with the models, and not from them.

        pages.py needs blocks, and blocks need models: were the models package
        to import pages.py, a site model importing the form block while
        wagtail_journey's models were half-loaded would hit a circular import
        (and which of them loads first depends on INSTALLED_APPS order). Here
        every model module is complete before pages.py is imported.
        """
        super().import_models()
        from wagtail_journey import pages  # noqa: F401

    def ready(self) -> None:
        # Registering checks and the built-in reactions needs the app registry;
        # both modules are light and only define functions.
        from django.db.models.signals import post_migrate, pre_delete

        from wagtail_journey import checks, install_checks, reactions, schedules  # noqa: F401
        from wagtail_journey.emails import sending, webhooks  # noqa: F401
        from wagtail_journey.flows import reactions as flow_reactions  # noqa: F401
        from wagtail_journey.models import Contact
        from wagtail_journey.privacy import pii  # noqa: F401  (its system check)
        from wagtail_journey.tracking import attribution, stages  # noqa: F401

        stages.connect_signals()
        pre_delete.connect(sending.forget_contact, sender=Contact, dispatch_uid="wj_outbound")
        post_migrate.connect(schedules.on_post_migrate, sender=self, dispatch_uid="wj_schedules")

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "demo"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from wagtail_journey.emails import messages

        messages.register("demo_newsletter", "demo.emails.build_newsletter")

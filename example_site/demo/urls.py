from django.conf import settings
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from wagtail_journey import urls as journey_urls

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    # wagtail_journey's public endpoints (collect, webhooks, preference centre).
    path("journey/", include(journey_urls)),
    # Your email provider's events, through anymail's own webhook views:
    # /anymail/<esp>/tracking/ (docs/email-delivery.md).
    path("anymail/", include("anymail.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Wagtail's pages last. No i18n_patterns: the visitor's Accept-Language picks
# the language of wagtail_journey's texts (LocaleMiddleware).
urlpatterns += [path("", include(wagtail_urls))]

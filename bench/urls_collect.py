"""The example site's URLs plus the bare baseline view of the collect benchmark."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from demo.urls import urlpatterns as demo_urlpatterns

BARE_KIND = "bench_bare_insert"


@csrf_exempt
def bare_insert(request):
    """Baseline: a Django view that does one INSERT (a touchpoint row) and answers 204."""
    from wagtail_journey.models import Touchpoint

    Touchpoint.objects.create(kind=BARE_KIND)
    return HttpResponse(status=204)


urlpatterns = [path("bench/bare-insert/", bare_insert), *demo_urlpatterns]

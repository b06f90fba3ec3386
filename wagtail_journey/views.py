"""Small public views. Feature views live in their own modules (tracking/, privacy/)."""

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness probe for load balancers and `make demo` (no personal data)."""
    return JsonResponse({"status": "ok", "message": _("Journey tracking is running.")})

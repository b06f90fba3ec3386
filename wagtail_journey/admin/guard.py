"""One permission floor under every admin URL the package registers.

Admin frameworks add views of their own: wagtail-modeladmin's history view
checks no permission at all, snippet choosers check none, and a view added
later is easily forgotten. Rather than trusting each view, the package wraps
every URL pattern it registers (:func:`guard_urls`): the user must hold at
least one of the model's permissions (view, add, change or delete) before the
view runs, and a request carrying a NUL byte is refused with 400 (no editor
types one; PostgreSQL would turn it into a 500 in any search or filter). The
view then applies its own, stricter check (add to create, change to edit, ...).
The *view* permission therefore means read access: listings, inspect and
history pages.

Where it is applied: :class:`~wagtail_journey.admin.contacts.JourneyAdminGroup`
guards every ModelAdmin in the Journey menu (and the reports it adds) with that
ModelAdmin's model; :class:`~wagtail_journey.admin.base.JourneySnippetViewSet`
guards a snippet viewset's URLs and its chooser's. ``tests/test_admin_permissions.py``
enumerates the package's admin URLs from the URL resolver and proves it for each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps

from django.db.models import Model
from django.http import HttpResponseBadRequest
from django.urls import URLPattern
from django.utils.translation import gettext as _
from wagtail.admin.auth import permission_denied

ACTIONS = ("view", "add", "change", "delete")


def model_permissions(model: type[Model], actions: Iterable[str] = ACTIONS) -> list[str]:
    """Full permission names (``app.action_model``) of ``model`` for ``actions``."""
    opts = model._meta
    return [f"{opts.app_label}.{action}_{opts.model_name}" for action in actions]


def user_can_read(user, model: type[Model]) -> bool:
    """True when ``user`` holds any permission on ``model`` (view means read access)."""
    return user.is_active and any(user.has_perm(p) for p in model_permissions(model))


def require_model_permission(model: type[Model], view: Callable) -> Callable:
    """``view`` behind a check: no permission on ``model``, Wagtail's "permission denied"."""

    @wraps(view)
    def guarded(request, *args, **kwargs):
        if not user_can_read(request.user, model):
            return permission_denied(request)
        if has_nul(request):
            return HttpResponseBadRequest(_("The request contains invalid characters."))
        return view(request, *args, **kwargs)

    guarded.journey_guarded_model = model
    guarded.journey_view = view  # what the guard protects (tests inspect it)
    return guarded


def has_nul(request) -> bool:
    """A NUL byte in the query string or form: PostgreSQL refuses it in any text
    query (a 500 deep in a listing or filter), and no editor types one."""
    sources = [request.GET, request.POST] if request.method == "POST" else [request.GET]
    for data in sources:
        for key, values in data.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return True
    return False


def guard_urls(patterns: Iterable, model: type[Model]) -> list:
    """Copies of ``patterns`` whose views first check a permission on ``model``."""
    return [
        URLPattern(p.pattern, require_model_permission(model, p.callback), p.default_args, p.name)
        if isinstance(p, URLPattern)
        else p
        for p in patterns
    ]

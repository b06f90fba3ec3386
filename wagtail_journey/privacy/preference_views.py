"""The public preference centre: request a link, open it, manage consents and data.

No JavaScript: every change is a plain form POST with Django's CSRF token,
answered by a redirect back to the centre with a status code in the query
string (Post/Redirect/Get), so a reload never repeats a change. Bad links,
expired sessions and unknown addresses get neutral pages (see privacy/tokens.py).
"""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from wagtail_journey import ratelimit
from wagtail_journey.conf import journey_settings
from wagtail_journey.models import ConsentPurpose, Contact
from wagtail_journey.privacy import preferences, tokens

CENTRE = "wagtail_journey/privacy/preferences.html"
REQUEST = "wagtail_journey/privacy/preferences_request.html"
OPEN = "wagtail_journey/privacy/preferences_open.html"
ERASE = "wagtail_journey/privacy/erase_confirm.html"

#: Status messages after a change (the redirect names one of these keys).
DONE = {
    "granted": _("Your consent is recorded."),
    "pending": _("We sent you an email: your consent counts once you confirm it there."),
    "withdrawn": _("Your consent is withdrawn."),
    "unchanged": _("Nothing changed."),
    "unsubscribed": _("You are unsubscribed from all our marketing emails."),
    "profile": _("Your details are corrected."),
    "objection": _("Your choice is recorded."),
    "export": _("We are preparing your data and will email you a download link."),
    "erase": _("We sent you an email: follow its link to confirm the erasure of your data."),
    "limited": _("Too many requests. Please try again later."),
}


class RequestLinkForm(forms.Form):
    email = forms.EmailField(label=_("Your email address"), max_length=254)


class ProfileForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        required=False,
        validators=[preferences.validate_phone],
    )


def _redirect(done: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(f"{reverse('wagtail_journey:preferences')}?done={done}")


@csrf_protect  # whatever the site's middleware: every POST here carries the token
@never_cache
@require_http_methods(["GET", "POST"])
def preference_centre(request: HttpRequest) -> HttpResponse:
    """The centre for a browser that opened a link; the link request form otherwise."""
    if request.method == "POST" and request.POST.get("action") == "request_link":
        return _request_link(request)
    contact = preferences.session_contact(request)
    if contact is None:
        status = 403 if request.method == "POST" else 200
        context = {"form": RequestLinkForm(), "expired": request.method == "POST"}
        return TemplateResponse(request, REQUEST, context, status=status)
    profile = None
    if request.method == "POST":
        result = _act(request, contact)
        if isinstance(result, str):
            return _redirect(result)
        profile = result  # a profile form with errors
    return _centre(request, contact, profile)


def _centre(request: HttpRequest, contact: Contact, profile: ProfileForm | None) -> HttpResponse:
    if profile is None:
        profile = ProfileForm(initial={f: getattr(contact, f) for f in preferences.RECTIFIABLE})
    context = {
        "contact": contact,
        "purposes": preferences.consent_states(contact),
        "profile": profile,
        "done": DONE.get(request.GET.get("done", "")),
    }
    return TemplateResponse(request, CENTRE, context, status=400 if profile.errors else 200)


def _act(request: HttpRequest, contact: Contact) -> str | ProfileForm:
    """Apply one POSTed change; the status key to show, or the profile form with errors."""
    action = request.POST.get("action", "")
    if action in ("grant", "withdraw"):
        purpose = ConsentPurpose.objects.filter(key=request.POST.get("purpose", "")).first()
        if purpose is None:
            return "unchanged"
        return preferences.set_consent(contact, purpose, action == "grant")
    if action == "unsubscribe_all":
        preferences.unsubscribe_all(contact)
        return "unsubscribed"
    if action == "profile":
        form = ProfileForm(request.POST)
        if not form.is_valid():
            return form
        changed = preferences.rectify(contact, form.cleaned_data)
        return "profile" if changed else "unchanged"
    if action == "object":
        what = request.POST.get("what", "")
        if what not in ("profiling", "marketing"):
            return "unchanged"
        on = request.POST.get("on") == "1"
        return "objection" if preferences.set_objection(contact, what, on) else "unchanged"
    if action in ("export", "erase"):
        # Each sends an email: a few per hour, so the centre cannot flood an inbox.
        if not ratelimit.hit(f"prefs-{action}", str(contact.pk), 3, 3600):
            return "limited"
        if action == "export":
            from wagtail_journey.privacy.export import request_export

            request_export(contact, via="preference_centre")
        else:
            preferences.request_erasure(contact)
        return action
    return "unchanged"


def _request_link(request: HttpRequest) -> HttpResponse:
    """The same page, status and work for a known and an unknown address."""
    form = RequestLinkForm(request.POST)
    if not form.is_valid():
        return TemplateResponse(request, REQUEST, {"form": form}, status=400)
    address = form.cleaned_data["email"]
    ip_ok = ratelimit.hit(
        "prefs-link-ip",
        ratelimit.client_ip(request),
        *journey_settings.PREFERENCE_LINK_RATE_LIMIT_IP,
    )
    address_ok = ratelimit.hit(
        "prefs-link-addr",
        address.strip().lower(),
        *journey_settings.PREFERENCE_LINK_RATE_LIMIT_ADDRESS,
    )
    if not (ip_ok and address_ok):
        context = {"form": RequestLinkForm(), "limited": True}
        return TemplateResponse(request, REQUEST, context, status=429)
    preferences.request_link(address)
    context = {
        "form": RequestLinkForm(),
        "sent": True,
        "link_hours": journey_settings.PREFERENCE_LINK_MAX_AGE_HOURS,
    }
    return TemplateResponse(request, REQUEST, context)


@csrf_protect  # whatever the site's middleware: every POST here carries the token
@never_cache
@require_http_methods(["GET", "POST"])
def open_preferences(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a button (mail scanners fetch links). POST: the link opens a session."""
    try:
        if request.method == "GET":
            preferences.read_link(token)
            return TemplateResponse(request, OPEN, {"state": "ask"})
        contact = preferences.open_link(token)
    except tokens.InvalidToken:
        context = {"state": "invalid", "form": RequestLinkForm()}
        return TemplateResponse(request, OPEN, context, status=400)
    response = HttpResponseRedirect(reverse("wagtail_journey:preferences"))
    preferences.start_session(request, response, contact)
    return response


@csrf_protect  # whatever the site's middleware: every POST here carries the token
@never_cache
@require_http_methods(["GET", "POST"])
def confirm_erasure(request: HttpRequest, token: str) -> HttpResponse:
    """GET: what erasure means and a button. POST: erase, once."""
    try:
        if request.method == "GET":
            preferences.read_erasure_link(token)
            return TemplateResponse(request, ERASE, {"state": "ask"})
        preferences.confirm_erasure(token)
    except tokens.InvalidToken:
        return TemplateResponse(request, ERASE, {"state": "invalid"}, status=400)
    response = TemplateResponse(request, ERASE, {"state": "done"})
    preferences.end_session(response)
    return response

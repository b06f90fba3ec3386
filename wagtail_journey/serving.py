"""How form blocks are served and posted, in any page type.

A form block has no URL: it posts to the page that shows it. An
``on_serve_page`` hook (registered in wagtail_hooks.py, inside Wagtail's
view-restriction check) handles that POST for every page type, so a site
needs no mixin: it finds the top-level form block whose StreamField id the
POST carries, validates it, stores the submission and redirects (POST,
redirect, GET: reloading the success page sends nothing again).

Sites render StreamFields with ``{% include_block %}`` (the block sees the
page's context: request, CSRF token) and with ``{{ page.body }}`` (it sees
nothing). For the second, the hook renders the page's response while the
request is held in a context variable that :func:`rendering_request` reads,
so the form still carries the visitor's CSRF token, their input after an
error and the success message. Django's own CSRF check protects the POST.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import SimpleTemplateResponse, TemplateResponse
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from wagtail.fields import StreamField

from wagtail_journey.blocks.form import FormBlock
from wagtail_journey.conf import journey_settings
from wagtail_journey.forms import build_form
from wagtail_journey.ratelimit import client_ip, hit

# (request, page) of the page being served; see rendering_request().
_serving: contextvars.ContextVar[tuple[HttpRequest, Any] | None] = contextvars.ContextVar(
    "wagtail_journey_serving", default=None
)

#: Query parameter of the success redirect: the form block id, signed.
SENT_PARAM = "wj_sent"
SENT_SALT = "wagtail_journey.form.sent"
#: How long a success URL shows the success message (then the form again).
SENT_MAX_AGE = 3600

_form_fields: dict[type, list[tuple[str, frozenset[str]]]] = {}


def rendering_request() -> HttpRequest | None:
    """The request whose page is being rendered by :func:`serve_forms`, if any."""
    serving = _serving.get()
    return serving[0] if serving else None


def rendering_page() -> Any:
    serving = _serving.get()
    return serving[1] if serving else None


def block_id_of(value: Any, page: Any) -> str:
    """The StreamField id of form block ``value`` on ``page`` ("" if not found).

    Wagtail 8 puts a StreamField child's id in its template context; Wagtail
    7.4 does not, so the id is found by identity among the page's form blocks.
    """
    if page is None:
        return ""
    for stream, index in _form_children(page):
        child = stream[index]
        if child.value is value:
            return child.id or ""
    return ""


def _form_stream_fields(page_class: type) -> list[tuple[str, frozenset[str]]]:
    """(field name, names of its top-level FormBlock children), per page class."""
    found = _form_fields.get(page_class)
    if found is None:
        found = []
        for field in page_class._meta.get_fields():
            if isinstance(field, StreamField):
                names = frozenset(
                    name
                    for name, block in field.stream_block.child_blocks.items()
                    if isinstance(block, FormBlock)
                )
                if names:
                    found.append((field.name, names))
        _form_fields[page_class] = found
    return found


def _form_children(page: Any) -> Iterator[Any]:
    for name, block_names in _form_stream_fields(type(page)):
        stream = getattr(page, name)
        if not stream:
            continue
        # The raw data says which children are forms without converting the
        # others (images, page choosers...) on every page view.
        for index, raw in enumerate(stream.raw_data):
            if raw.get("type") in block_names:
                yield stream, index


def has_form_blocks(page: Any) -> bool:
    return next(_form_children(page), None) is not None


def find_form_blocks(page: Any) -> dict[str, Any]:
    """{block id: FormBlock value} for the top-level form blocks of the page's StreamFields."""
    found = {}
    for stream, index in _form_children(page):
        child = stream[index]
        found[child.id] = child.value
    return found


def sent_token(block_id: str) -> str:
    # The id's first 8 characters tell a page's forms apart: a short URL.
    return signing.TimestampSigner(salt=SENT_SALT).sign(block_id[:8])


def was_sent(request: HttpRequest | None, block_id: str) -> bool:
    """True on the page the visitor was redirected to after sending form ``block_id``."""
    raw = request.GET.get(SENT_PARAM) if request is not None else None
    if not raw or not block_id:
        return False
    try:
        signer = signing.TimestampSigner(salt=SENT_SALT)
        return signer.unsign(raw, max_age=SENT_MAX_AGE) == block_id[:8]
    except signing.BadSignature:
        return False


def serve_forms(callback):
    """The ``on_serve_page`` hook: form POSTs, and pages with forms rendered in scope."""

    def serve(page, request, serve_args, serve_kwargs):
        if _is_form_post(request):
            return _serve_post(page, request, serve_args, serve_kwargs)
        if not has_form_blocks(page):
            return callback(page, request, serve_args, serve_kwargs)
        response = _render_in_scope(
            request, page, lambda: callback(page, request, serve_args, serve_kwargs)
        )
        _private(response)
        return response

    return serve


def _is_form_post(request: HttpRequest) -> bool:
    # Only form bodies: other POSTs (JSON...) are left unread for the page.
    return (
        request.method == "POST"
        and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data")
        and "wj_form" in request.POST
    )


def _render_in_scope(request: HttpRequest, page: Any, make_response) -> HttpResponse:
    token = _serving.set((request, page))
    try:
        response = make_response()
        if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
            response.render()
    finally:
        _serving.reset(token)
    return response


def _private(response: HttpResponse) -> None:
    """A page with a form holds a CSRF token and maybe answers: never in a shared cache."""
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Cookie"])


def _serve_post(page, request, serve_args, serve_kwargs) -> HttpResponse:
    block_id = request.POST.get("wj_form", "")[:64]
    value = find_form_blocks(page).get(block_id)
    if value is None:
        # The editor removed this form while the visitor had it open.
        return _render(page, request, serve_args, serve_kwargs, {"journey_form_gone": True}, 410)
    form = build_form(value, block_id, data=request.POST, request=request)
    limit, window = journey_settings.FORM_RATE_LIMIT
    if not hit("form", client_ip(request), limit, window):
        form.is_valid()
        form.add_error(None, _("Too many submissions from your network. Please try again later."))
        status = 429
    elif form.is_valid() and _process(request, page, block_id, form):
        return _success_redirect(request, block_id, value)
    else:
        status = 400
    form.refresh_token()
    request._wj_forms = {block_id: form}
    return _render(
        page, request, serve_args, serve_kwargs, {"journey_forms": {block_id: form}}, status
    )


def _process(request: HttpRequest, page: Any, block_id: str, form: Any) -> bool:
    """Store the submission; False (nothing stored) when it is refused late.

    A rule that needs the database or the normalised address (identity) may
    still refuse with a ValidationError: the visitor gets their form back with
    the message. The same rendered form stored before (a double click, a
    browser re-post) counts as stored: it is answered as the first time was.
    """
    from wagtail_journey.submissions import AlreadySubmitted, process_submission

    try:
        process_submission(request, page, block_id, form)
    except ValidationError as exc:
        form.add_error(None, exc)
        return False
    except AlreadySubmitted:
        pass
    except IntegrityError:
        if not _already_submitted(form):
            raise
    return True


def _already_submitted(form) -> bool:
    from wagtail_journey.models import FormSubmission

    nonce = form.token_nonce
    return bool(nonce) and FormSubmission.objects.filter(render_token=nonce).exists()


def _success_redirect(request: HttpRequest, block_id: str, value: Any) -> HttpResponse:
    redirect_page = value.get("redirect_page")
    if redirect_page is not None and redirect_page.live:
        messages.success(request, _("Thank you, your submission was received."), fail_silently=True)
        response = HttpResponseRedirect(redirect_page.get_url(request) or "/")
    else:
        query = request.GET.copy()
        query[SENT_PARAM] = sent_token(block_id)
        response = HttpResponseRedirect(f"{request.path}?{query.urlencode()}#form-{block_id}")
    response.status_code = 303  # "see other": the browser GETs it, and never re-posts
    _private(response)
    return response


def _render(page, request, serve_args, serve_kwargs, extra: dict, status: int) -> HttpResponse:
    def make() -> HttpResponse:
        context = page.get_context(request, *serve_args, **serve_kwargs)
        context.update(extra)
        template = page.get_template(request, *serve_args, **serve_kwargs)
        return TemplateResponse(request, template, context, status=status)

    response = _render_in_scope(request, page, make)
    _private(response)
    return response

"""Admin glue for data-subject rights: the contact page's privacy panel and its actions.

Every view calls the function tests and commands call (privacy/restriction.py,
export.py, erasure.py). The URLs are guarded like every package admin URL
(admin/guard.py: some permission on Contact first), then each view checks its
own permission: ``change_contact`` to restrict, record objections or change
consent, ``export_contact`` to export, ``erase_contact`` to erase. A user
without it gets 403 and no data.
"""

from __future__ import annotations

import tempfile

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import re_path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from django.views.generic import TemplateView
from wagtail.admin.auth import permission_denied
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from wagtail_journey.admin.contact_views import SECTIONS, Section
from wagtail_journey.admin.guard import guard_urls
from wagtail_journey.identity import normalize_email
from wagtail_journey.models import ConsentPurpose, ConsentRecord, Contact
from wagtail_journey.privacy import audit, erasure, export, restriction
from wagtail_journey.privacy.consent import deciding_record, record_consent

CHANGE = "wagtail_journey.change_contact"
EXPORT = "wagtail_journey.export_contact"
ERASE = "wagtail_journey.erase_contact"
#: Most contacts one bulk erasure takes.
BULK_MAX = 500


def inspect_url(contact_id: int) -> str:
    return reverse("wagtail_journey_contact:inspect", args=[contact_id])


# The privacy panel heads the contact page (rights in force, export, erase).
SECTIONS.insert(0, Section("wagtail_journey/admin/contact/privacy.html"))


def panel_context(request: HttpRequest, contact: Contact) -> dict:
    """What the privacy panel shows; logs the staff member's view of the contact once."""
    if not getattr(request, "_wj_contact_view_logged", False):
        audit.log_contact(contact, audit.VIEWED, user=request.user)
        request._wj_contact_view_logged = True
    user = request.user
    purposes = []
    for purpose in ConsentPurpose.objects.order_by("name"):
        record = deciding_record(contact, purpose.key)
        purposes.append(
            {
                "purpose": purpose,
                "granted": bool(record and record.action == ConsentRecord.Action.GRANTED),
            }
        )
    return {
        "contact": contact,
        "erased": contact.erased_at is not None,
        "can_change": user.has_perm(CHANGE),
        "can_export": user.has_perm(EXPORT),
        "can_erase": user.has_perm(ERASE),
        "purposes": purposes,
        "restrict_url": reverse("wagtail_journey_contact_privacy_restrict", args=[contact.pk]),
        "consent_url": reverse("wagtail_journey_contact_privacy_consent", args=[contact.pk]),
        "export_url": reverse("wagtail_journey_contact_privacy_export", args=[contact.pk]),
        "erase_url": reverse("wagtail_journey_contact_privacy_erase", args=[contact.pk]),
    }


@require_POST
def restrict_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Restrict processing, or record an objection (marketing, profiling), or lift one."""
    if not request.user.has_perm(CHANGE):
        return permission_denied(request)
    contact = get_object_or_404(Contact, pk=pk, erased_at__isnull=True)
    what = request.POST.get("what", "")
    on = request.POST.get("on") == "1"
    if what == "restriction":
        restriction.set_restricted(contact, on, by="admin", user=request.user)
    elif what in ("marketing", "profiling"):
        restriction.set_objection(contact, **{what: on}, by="admin", user=request.user)
    else:
        messages.error(request, _("Choose what to change."))
        return redirect(inspect_url(contact.pk))
    messages.success(request, _("The contact's privacy settings were saved."))
    return redirect(inspect_url(contact.pk))


class ConsentChangeForm(forms.Form):
    purpose = forms.ModelChoiceField(queryset=ConsentPurpose.objects.all())
    action = forms.ChoiceField(
        choices=[
            (ConsentRecord.Action.GRANTED, gettext_lazy("Granted")),
            (ConsentRecord.Action.WITHDRAWN, gettext_lazy("Withdrawn")),
        ]
    )


@require_POST
def consent_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a consent answer the person gave staff (by phone, by letter): logged."""
    if not request.user.has_perm(CHANGE):
        return permission_denied(request)
    contact = get_object_or_404(Contact, pk=pk, erased_at__isnull=True)
    form = ConsentChangeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a purpose and an answer."))
        return redirect(inspect_url(contact.pk))
    purpose, action = form.cleaned_data["purpose"], form.cleaned_data["action"]
    with transaction.atomic():
        record = record_consent(contact, purpose, action, method=ConsentRecord.Method.ADMIN)
        audit.log_contact(
            contact,
            audit.CONSENT_CHANGED,
            user=request.user,
            data={"purpose": purpose.key, "action": action, "record": record.pk},
        )
    messages.success(request, _("The consent answer was recorded."))
    return redirect(inspect_url(contact.pk))


@require_http_methods(["GET"])
def export_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Download the contact's export (zip) now; spooled to disk past a few MB."""
    if not request.user.has_perm(EXPORT):
        return permission_denied(request)
    contact = get_object_or_404(Contact, pk=pk)
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (FileResponse closes it)
    export.write_export(contact, spool)
    spool.seek(0)
    audit.log_contact(contact, audit.EXPORTED, user=request.user, data={"via": "admin"})
    return FileResponse(
        spool,
        as_attachment=True,
        filename=f"contact-{contact.pk}-data.zip",
        content_type="application/zip",
    )


class EraseView(WagtailAdminTemplateMixin, TemplateView):
    """Erase one contact: the dry run's counts, then a confirmation (POST)."""

    template_name = "wagtail_journey/admin/privacy_erase.html"
    page_title = gettext_lazy("Erase a contact")
    header_icon = "bin"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(ERASE):
            return permission_denied(request)
        self.contact = get_object_or_404(Contact, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            contact=self.contact,
            already=self.contact.erased_at is not None,
            plan=sorted(erasure.erasure_plan(self.contact).items()),
            back_url=inspect_url(self.contact.pk),
        )
        return context

    def post(self, request, *args, **kwargs):
        if request.POST.get("confirm") != "yes":
            messages.error(request, _("Tick the box to confirm the erasure."))
            return redirect(request.path)
        receipt = erasure.erase_contact(self.contact, by="admin", user=request.user)
        messages.success(
            request,
            _("The contact's personal data was erased (receipt %(ref)s).")
            % {"ref": receipt.reference},
        )
        return redirect(inspect_url(self.contact.pk))


class BulkEraseForm(forms.Form):
    addresses = forms.CharField(
        label=gettext_lazy("Email addresses, one per line"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=BULK_MAX * 260,
    )


class BulkEraseView(WagtailAdminTemplateMixin, TemplateView):
    """Erase several contacts: by address (pasted) or by id (``?id=1&id=2``), with the
    dry run's counts and a confirmation."""

    template_name = "wagtail_journey/admin/privacy_bulk_erase.html"
    page_title = gettext_lazy("Erase contacts")
    header_icon = "bin"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.has_perm(ERASE):
            return permission_denied(request)
        return super().dispatch(request, *args, **kwargs)

    def _ids_from(self, values) -> list[int]:
        ids = [int(v) for v in values if str(v).isdigit()][:BULK_MAX]
        return list(
            Contact.objects.filter(pk__in=ids, erased_at__isnull=True).values_list("pk", flat=True)
        )

    def get(self, request, *args, **kwargs):
        ids = self._ids_from(request.GET.getlist("id"))
        return self.render_to_response(self.get_context_data(form=BulkEraseForm(), ids=ids))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ids = context.get("ids") or []
        context["plan"] = sorted(erasure.plan(ids).items()) if ids else []
        return context

    def post(self, request, *args, **kwargs):
        if request.POST.get("step") == "erase":
            ids = self._ids_from(request.POST.getlist("id"))
            if request.POST.get("confirm") != "yes" or not ids:
                messages.error(request, _("Tick the box to confirm the erasure."))
                return self.render_to_response(self.get_context_data(form=BulkEraseForm(), ids=ids))
            receipts = erasure.erase_contacts(ids, by="admin", user=request.user)
            messages.success(request, _("%(n)s contacts were erased.") % {"n": len(receipts)})
            return redirect(reverse("wagtail_journey_contact_privacy_bulk_erase"))
        form = BulkEraseForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form, ids=[]))
        lines = [ln.strip() for ln in form.cleaned_data["addresses"].splitlines() if ln.strip()]
        if len(lines) > BULK_MAX:
            form.add_error(
                "addresses", _("At most %(max)s addresses at a time.") % {"max": BULK_MAX}
            )
            return self.render_to_response(self.get_context_data(form=form, ids=[]))
        wanted = {normalize_email(ln) for ln in lines}
        ids = list(
            Contact.objects.filter(email__in=wanted, erased_at__isnull=True).values_list(
                "pk", flat=True
            )
        )
        return self.render_to_response(
            self.get_context_data(form=form, ids=ids, not_found=len(wanted) - len(ids))
        )


def urls() -> list:
    """The privacy views' URLs, behind the package's permission floor (admin/guard.py)."""
    patterns = [
        re_path(
            r"^journey/contacts/(?P<pk>\d+)/privacy/restrict/$",
            restrict_view,
            name="wagtail_journey_contact_privacy_restrict",
        ),
        re_path(
            r"^journey/contacts/(?P<pk>\d+)/privacy/consent/$",
            consent_view,
            name="wagtail_journey_contact_privacy_consent",
        ),
        re_path(
            r"^journey/contacts/(?P<pk>\d+)/privacy/export/$",
            export_view,
            name="wagtail_journey_contact_privacy_export",
        ),
        re_path(
            r"^journey/contacts/(?P<pk>\d+)/privacy/erase/$",
            EraseView.as_view(),
            name="wagtail_journey_contact_privacy_erase",
        ),
        re_path(
            r"^journey/privacy/erase/$",
            BulkEraseView.as_view(),
            name="wagtail_journey_contact_privacy_bulk_erase",
        ),
    ]
    return guard_urls(patterns, Contact)


class _EraseMenuItem(MenuItem):
    def is_shown(self, request) -> bool:
        return request.user.has_perm(ERASE)


def erase_menu_item() -> MenuItem:
    """Settings -> Erase contacts, for users who may erase."""
    return _EraseMenuItem(
        gettext_lazy("Erase contacts"),
        reverse("wagtail_journey_contact_privacy_bulk_erase"),
        icon_name="bin",
        order=900,
    )

"""Contacts in the Wagtail admin: a snippet viewset, for its bulk actions.

Wagtail's bulk-action framework serves snippet viewsets and not
``ModelViewSet`` (Wagtail #11371), so contacts are a snippet here while the
logs (touchpoints, submissions) stay in wagtail-modeladmin. The listing is
built for a million contacts:

- every sortable column is backed by an index (email, score, lifecycle stage,
  last activity, and "created", which sorts by id: rows are numbered as they
  are created); the name and journey stage are shown, not sorted;
- pages are keyset pages (:mod:`wagtail_journey.contacts.paging`): previous
  and next, each one index walk whatever the depth; the count is exact up to
  10,000 and an estimate above, labelled as such;
- the queries per page do not grow with the rows shown: owners and tags of
  a page are read in one query each.

Every URL (the history, usage and chooser views Wagtail adds included) first
checks a permission on Contact (:class:`~wagtail_journey.admin.base.JourneySnippetViewSet`).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, FieldRowPanel, HelpPanel, MultiFieldPanel, ObjectList
from wagtail.admin.ui.tables import (
    BulkActionsCheckboxColumn,
    ButtonsColumnMixin,
    Column,
    TitleColumn,
)
from wagtail.admin.utils import get_user_display_name
from wagtail.admin.views.mixins import SpreadsheetExportMixin
from wagtail.snippets.views.snippets import HistoryView

from wagtail_journey.admin.base import JourneySnippetIndexView, JourneySnippetViewSet
from wagtail_journey.admin.contact_filters import ContactFilterSet
from wagtail_journey.admin.contact_form import ContactForm
from wagtail_journey.admin.contact_views import ContactInspectView, contact_action
from wagtail_journey.admin.display import when
from wagtail_journey.admin.exports import FormulaSafeExportMixin
from wagtail_journey.admin.guard import guard_urls
from wagtail_journey.contacts.paging import keyset_page
from wagtail_journey.models import Contact
from wagtail_journey.stages import STAGE_LABELS

#: Sort keys editors can choose (each index-backed) -> the column keyset pages walk.
SORTS = {
    "email": "email",
    "score": "score",
    "lifecycle_stage": "lifecycle_stage",
    "last_activity_at": "last_activity_at",
    "id": "id",
}
DEFAULT_ORDERING = "-id"  # newest first


def lifecycle_label(contact: Contact) -> str:
    stage = contact.lifecycle_stage
    return str(STAGE_LABELS.get(stage, stage.replace("_", " ").capitalize()))


def owner_name(contact: Contact) -> str:
    return get_user_display_name(contact.owner) if contact.owner_id else ""


def tag_names(contact: Contact) -> str:
    return ", ".join(sorted(t.name for t in contact.tags.all()))


def search_contacts(queryset: QuerySet, query: str) -> QuerySet:
    """Contacts whose email or name contains ``query`` ("Ana Silva" matches both names)."""
    q = (query or "").strip()[:255]
    if not q:
        return queryset
    match = Q(email__icontains=q) | Q(first_name__icontains=q) | Q(last_name__icontains=q)
    first, _sep, last = q.partition(" ")
    if last.strip():
        match |= Q(first_name__iexact=first, last_name__icontains=last.strip())
    return queryset.filter(match)


class ContactExport:
    """The columns of a contact export (listing export and the bulk action).

    Readable values (stage labels, the owner's name, tags joined), formula-safe
    CSV (:class:`~wagtail_journey.admin.exports.FormulaSafeExportMixin`).
    """

    list_export = [
        "email",
        "first_name",
        "last_name",
        "phone",
        "owner_name",
        "score",
        "lifecycle",
        "journey",
        "tags",
        "first_source",
        "first_campaign",
        "created_at",
        "last_activity_at",
    ]
    export_headings = {
        "email": _("Email"),
        "first_name": _("First name"),
        "last_name": _("Last name"),
        "phone": _("Phone"),
        "owner_name": _("Owner"),
        "score": _("Score"),
        "lifecycle": _("Lifecycle stage"),
        "journey": _("Journey stage"),
        "tags": _("Tags"),
        "first_source": _("First-touch source"),
        "first_campaign": _("First-touch campaign"),
        "created_at": _("Created"),
        "last_activity_at": _("Last activity"),
    }
    export_filename = "contacts"

    def to_row_dict(self, item: Contact) -> dict:
        touch = item.first_touch or {}
        values = {
            "email": item.email,
            "first_name": item.first_name,
            "last_name": item.last_name,
            "phone": item.phone,
            "owner_name": owner_name(item),
            "score": item.score,
            "lifecycle": lifecycle_label(item),
            "journey": item.get_journey_stage_display(),
            "tags": tag_names(item),
            "first_source": touch.get("source", ""),
            "first_campaign": touch.get("campaign", ""),
            "created_at": item.created_at,
            "last_activity_at": item.last_activity_at,
        }
        return {name: values[name] for name in self.list_export}

    @staticmethod
    def rows(queryset):
        """The contacts to export, read in chunks (owners joined, tags prefetched per chunk)."""
        return queryset.select_related("owner").prefetch_related("tags").iterator(chunk_size=2000)


class ContactExporter(ContactExport, FormulaSafeExportMixin, SpreadsheetExportMixin):
    """A standalone exporter (the bulk action has no listing view to export from)."""

    def get_filename(self) -> str:
        return self.export_filename

    def export(self, queryset, spreadsheet_format: str):
        return self.as_spreadsheet(self.rows(queryset), spreadsheet_format)


class ContactIndexView(ContactExport, JourneySnippetIndexView):
    default_ordering = DEFAULT_ORDERING

    @cached_property
    def columns(self):
        title_column = type("ContactTitleColumn", (ButtonsColumnMixin, TitleColumn), {})
        title_column.get_buttons = lambda column, instance, *a, **kw: self.get_list_buttons(
            instance
        )
        return [
            BulkActionsCheckboxColumn("bulk_actions", obj_type="snippet"),
            title_column(
                "email",
                label=_("Email"),
                sort_key="email",
                get_url=self.get_inspect_url,
                get_title_id=lambda contact: f"snippet_{contact.pk}_title",
            ),
            Column("full_name", label=_("Name")),
            Column("score", label=_("Score"), sort_key="score"),
            Column(
                "lifecycle",
                label=_("Lifecycle stage"),
                accessor=lifecycle_label,
                sort_key="lifecycle_stage",
            ),
            Column("journey_stage", label=_("Journey stage"), accessor="get_journey_stage_display"),
            Column("owner", label=_("Owner"), accessor=owner_name),
            Column("tags", label=_("Tags"), accessor=tag_names),
            Column(
                "last_activity",
                label=_("Last activity"),
                accessor=lambda c: when(c.last_activity_at) or "—",
                sort_key="last_activity_at",
            ),
            Column(
                "created", label=_("Created"), accessor=lambda c: when(c.created_at), sort_key="id"
            ),
        ]

    def get_base_queryset(self):
        return Contact.objects.all()

    @cached_property
    def sort(self) -> tuple[str, bool]:
        ordering = self.ordering or DEFAULT_ORDERING
        return SORTS[ordering.lstrip("-")], ordering.startswith("-")

    def order_queryset(self, queryset):
        from wagtail_journey.contacts.paging import keyset_order

        return queryset.order_by(*keyset_order(*self.sort))

    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        return search_contacts(queryset, self.search_query)

    def paginate_queryset(self, queryset, page_size):
        field, descending = self.sort
        page = keyset_page(
            queryset,
            field,
            descending=descending,
            size=page_size,
            after=self.request.GET.get("after", ""),
            before=self.request.GET.get("before", ""),
        )
        # The page's owners and tags in one query each, not one per row.
        from django.db.models import prefetch_related_objects

        prefetch_related_objects(page.object_list, "owner", "tags")
        return (page, page, page.object_list, page.has_other_pages())

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        page = context.get("page_obj")
        if page is not None:
            count = page.count
            context["items_count"] = count.value
            context["count"] = count
            params = self.request.GET.copy()
            for name in ("after", "before", "p", "_w_filter_fragment"):
                params.pop(name, None)
            context["next_url"] = self._page_url(params, "after", page.next_cursor)
            context["previous_url"] = self._page_url(params, "before", page.previous_cursor)
        return context

    def _page_url(self, params, name: str, cursor: str) -> str:
        if not cursor:
            return ""
        params = params.copy()
        params[name] = cursor
        return f"{self.index_url}?{params.urlencode()}"

    def as_spreadsheet(self, queryset, spreadsheet_format):
        return super().as_spreadsheet(self.rows(queryset), spreadsheet_format)


class ContactHistoryView(HistoryView):
    """The contact's history: readable with *view*, as its page is (Wagtail asks
    for add, change or delete)."""

    any_permission_required = ["add", "change", "delete", "view"]


class ContactViewSet(JourneySnippetViewSet):
    model = Contact
    icon = "user"
    menu_label = _("Contacts")
    add_to_admin_menu = False
    # Listed in the Journey menu (admin/contacts.py), so not in "Snippets" either
    # (whose index would count every contact on each visit).
    menu_item_is_registered = True
    # A contact's references (its owner) are no "usage" worth a reference-index
    # job on every contact saved by a form.
    add_to_reference_index = False
    url_prefix = "wagtail_journey/contact"
    url_namespace = "wagtail_journey_contact"
    index_view_class = ContactIndexView
    index_results_template_name = "wagtail_journey/admin/contact_index_results.html"
    ordering = DEFAULT_ORDERING
    filterset_class = ContactFilterSet
    search_fields = ["email", "first_name", "last_name"]
    list_per_page = 50
    inspect_view_enabled = True
    inspect_view_class = ContactInspectView
    history_view_class = ContactHistoryView
    inspect_view_fields = [
        "email",
        "first_name",
        "last_name",
        "phone",
        "owner",
        "journey_stage",
        "first_touch",
        "last_touch",
        "created_at",
        "last_activity_at",
    ]
    edit_handler = ObjectList(
        [
            FieldPanel("email"),
            FieldRowPanel([FieldPanel("first_name"), FieldPanel("last_name")]),
            FieldRowPanel([FieldPanel("phone"), FieldPanel("owner")]),
            FieldPanel("lifecycle_stage"),
            FieldPanel("tags"),
            MultiFieldPanel(
                [
                    HelpPanel(template="wagtail_journey/admin/contact_score_panel.html"),
                    FieldRowPanel([FieldPanel("score_adjustment"), FieldPanel("score_note")]),
                ],
                heading=_("Score"),
            ),
            HelpPanel(template="wagtail_journey/admin/contact_derived_panel.html"),
        ],
        base_form_class=ContactForm,
    )

    def get_urlpatterns(self):
        action = path("action/<int:pk>/", contact_action, name="action")
        return [*super().get_urlpatterns(), *guard_urls([action], self.model)]

    def journey_menu_item(self, order: int):
        """The Contacts entry of the Journey menu (shown to users who may read contacts)."""
        from wagtail.admin.menu import MenuItem

        from wagtail_journey.admin.guard import user_can_read

        class ContactsMenuItem(MenuItem):
            def is_shown(self, request) -> bool:
                return user_can_read(request.user, Contact)

        return ContactsMenuItem(
            self.menu_label,
            reverse(self.get_url_name("list")),
            name="contacts",
            icon_name=self.icon,
            order=order,
        )

"""Formula-safe CSV for Wagtail's list exports (listings and reports).

Wagtail's ``SpreadsheetExportMixin`` writes CSV with the standard library
writer, so a form answer like ``=HYPERLINK(...)`` reaches the editor's
spreadsheet as a formula. Views of the package mix this in before Wagtail's
view class; the XLSX export is already safe (Wagtail stores formulas as text).
"""

from __future__ import annotations

from wagtail.admin.views.mixins import Echo

from wagtail_journey.safe_csv import DictWriter


class FormulaSafeExportMixin:
    """Streams the CSV export through :class:`wagtail_journey.safe_csv.DictWriter`."""

    def stream_csv(self, queryset):
        writer = DictWriter(Echo(), fieldnames=self.list_export)
        yield writer.writerow(
            {field: self.get_heading(queryset, field) for field in self.list_export}
        )
        for item in queryset:
            yield self.write_csv_row(writer, self.to_row_dict(item))

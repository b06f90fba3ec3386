"""Geometry of the reports' SVG charts, drawn by the package's templates.

No JavaScript and no inline style: the templates write shapes with numeric
attributes and CSS classes, and ``css/reports.css`` colours them with Wagtail's
CSS variables, so a strict Content-Security-Policy and dark mode both hold.
Each chart carries a title, a description and the same numbers as a table
(``headers`` and ``rows``) for screen readers and for editors who prefer
figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from django.utils.formats import date_format

WIDTH = 600
HEIGHT = 160


@dataclass
class Chart:
    id: str
    title: str
    description: str
    headers: Sequence[str]
    rows: list[list] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    shapes: list[dict] = field(default_factory=list)
    line: str = ""  # polyline points of the comparison series
    maximum: int = 0


def series(
    chart_id: str,
    title: str,
    description: str,
    days: list[dict],
    key: str,
    headers: Sequence[str],
    previous: list[dict] | None = None,
) -> Chart:
    """Columns per day for ``key`` and, when given, the previous period as a line."""
    values = [d.get(key, 0) for d in days]
    before = [d.get(key, 0) for d in previous or []]
    maximum = max([*values, *before, 1])
    step = WIDTH / max(len(days), 1)
    bar = max(step * 0.8, 1)
    chart = Chart(chart_id, title, description, headers, maximum=maximum)
    for i, (day, value) in enumerate(zip(days, values, strict=True)):
        height = round(HEIGHT * value / maximum, 2)
        chart.shapes.append(
            {
                "x": round(i * step, 2),
                "y": round(HEIGHT - height, 2),
                "width": round(bar, 2),
                "height": height,
                "label": f"{date_format(day['day'], 'SHORT_DATE_FORMAT')}: {value}",
            }
        )
        row: list = [day["day"], value]
        if previous:
            row.append(before[i] if i < len(before) else 0)
        chart.rows.append(row)
    if before:
        chart.line = " ".join(
            f"{round(i * step + bar / 2, 2)},{round(HEIGHT - HEIGHT * v / maximum, 2)}"
            for i, v in enumerate(before[: len(days)])
        )
    return chart


BAR = 22  # height of a row of a bar chart, in viewBox units


def bars(
    chart_id: str,
    title: str,
    description: str,
    items: list[tuple[str, int | float]],
    headers: Sequence[str],
) -> Chart:
    """Horizontal bars, one per (label, value), longest first as given."""
    maximum = max([v for _label, v in items] + [1])
    chart = Chart(
        chart_id, title, description, headers, height=max(BAR * len(items), BAR), maximum=maximum
    )
    for i, (label, value) in enumerate(items):
        chart.shapes.append(
            {
                "x": 0,
                "y": i * BAR + 2,
                "width": round(WIDTH * 0.6 * value / maximum, 2),
                "height": BAR - 6,
                "text_x": round(WIDTH * 0.6 * value / maximum, 2) + 6,
                "text_y": i * BAR + BAR / 2 + 3,
                "label": f"{label}: {value}",
            }
        )
        chart.rows.append([label, value])
    return chart


def short_day(day: date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")

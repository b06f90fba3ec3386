"""Top-N lists that keep an "other" row, so a list always adds up to its total."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

#: How many rows a report list shows before the "other" row.
TOP_N = 10


@dataclass
class Row:
    """One line of a ranked list: a key (source, page id ...), a label and its numbers."""

    key: str
    label: str
    values: dict[str, int] = field(default_factory=dict)
    other: bool = False

    def __getitem__(self, name: str) -> int:
        # Strict, so Wagtail's export (multigetattr) falls back to attributes.
        return self.values[name]

    def get(self, name: str) -> int:
        return self.values.get(name, 0)

    def rate(self, part: str, whole: str) -> float | None:
        """``part`` as a percentage of ``whole`` (None when there is nothing to divide)."""
        return percent(self.get(part), self.get(whole))


def percent(part: int | float, whole: int | float) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def top_with_other(
    rows: Iterable[Row], by: str, names: Sequence[str], n: int = TOP_N, other_label: str = ""
) -> list[Row]:
    """The ``n`` largest rows by ``by`` and, when more exist, one "other" row summing the rest."""
    ordered = sorted(rows, key=lambda r: (-r.get(by), r.label))
    top, rest = ordered[:n], ordered[n:]
    if rest:
        top.append(
            Row(
                key="",
                label=other_label,
                values={name: sum(r.get(name) for r in rest) for name in names},
                other=True,
            )
        )
    return top

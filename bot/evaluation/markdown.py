"""Small helpers for the Markdown reports and the tables printed to the terminal."""

from __future__ import annotations

import math
from collections.abc import Sequence


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table, columns padded so it also reads well in a terminal."""
    cells = [[str(cell) for cell in header], *[[str(cell) for cell in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def percent(value: float | None) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{100 * value:.1f} %"


def number(value: float | None, digits: int = 0, unit: str = "") -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.{digits}f}{unit}"


def fraction(hits: int, of: int) -> str:
    """``"12/13 (92.3 %)"``, or ``"n/a"`` when nothing was counted."""
    return f"{hits}/{of} ({percent(hits / of)})" if of else "n/a"

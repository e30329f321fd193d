"""Chart geometry for the hand-written SVG templates (templates/console/_chart_*.svg.html).

Python computes coordinates; the templates only place them, so pages fetch nothing and need no script.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.formats import date_format

# The growth chart's drawing box, in SVG user units (the SVG scales to its container).
WIDTH, HEIGHT = 720, 200
LEFT, BOTTOM, TOP = 44, 24, 8


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 × 10^n at or above value (the top of the y axis)."""
    if value <= 0:
        return 1
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


def daily_bars(days: list[tuple[datetime.date, int]]) -> dict:
    """Vertical bars, one per day, with a y axis (0, half, top) and first/middle/last day labels."""
    top = nice_ceiling(max((n for _, n in days), default=0))
    plot_width = WIDTH - LEFT
    plot_height = HEIGHT - BOTTOM - TOP
    step = plot_width / max(len(days), 1)
    bars = []
    for index, (day, count) in enumerate(days):
        height = plot_height * count / top
        bars.append(
            Bar(
                x=round(LEFT + index * step + step * 0.1, 2),
                y=round(TOP + plot_height - height, 2),
                width=round(step * 0.8, 2),
                height=round(height, 2),
                label=date_format(day, "SHORT_DATE_FORMAT"),
                value=count,
            )
        )
    ticks = [
        {"y": round(TOP + plot_height - plot_height * fraction, 2), "value": int(top * fraction)}
        for fraction in (0, 0.5, 1)
    ]
    labels = []
    for index in sorted({0, len(days) // 2, len(days) - 1}) if days else []:
        labels.append({"x": round(LEFT + index * step + step / 2, 2), "text": bars[index].label})
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "baseline": TOP + plot_height,
        "bars": bars,
        "ticks": ticks,
        "labels": labels,
        "total": sum(n for _, n in days),
    }


def horizontal_bars(items: list[tuple[str, int]], *, width: int = 100) -> dict:
    """Rows of label, bar and count; bar lengths in percent of the largest."""
    largest = max((n for _, n in items), default=0) or 1
    total = sum(n for _, n in items) or 1
    rows = [
        {
            "label": label,
            "value": value,
            "percent": round(100 * value / total),
            "length": round(width * value / largest, 2),
            "y": index * 28,
        }
        for index, (label, value) in enumerate(items)
    ]
    return {"rows": rows, "height": max(len(rows) * 28, 28), "width": width}

"""Small SVG charts for the Voila dashboards, drawn in the kernel: no plotly.js on the page.

plotly's lab renderer put 4.8 MB on every dashboard (the cell page, which has no chart, included), wrote month
names in English and collapsed a horizontal bar chart with long unit names to one label. These charts are plain
inline SVG in an ``ipywidgets.HTML`` (a few KB), scale to the width of a 360 px phone (``viewBox``, width 100 %),
write dates as ``dd/mm`` and take every text from the caller (the catalogue), escaped here.

Pure functions: strings in, an HTML string out.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 340  # viewBox width; the SVG is drawn at 100 % of its box
COLOURS = ("#1f6fb2", "#c0392b", "#2e8b57", "#8e44ad")
FONT = "font-family='sans-serif' font-size='11'"


@dataclass(frozen=True)
class Series:
    """One line (or one group of columns): its name in the legend, its values, and how it is drawn."""

    name: str
    values: Sequence[float]
    dashed: bool = False
    filled: bool = False


def day_label(day: dt.date) -> str:
    """A date as the dashboards write it on an axis: 07/12."""
    return f"{day.day:02d}/{day.month:02d}"


def minute_label(minute: float) -> str:
    """A moment in a lecture, in whole minutes: 12."""
    return f"{minute:.0f}"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _figure(title: str, height: float, body: str, label: str = "") -> str:
    return (
        f"<figure class='diemcau-chart' style='margin:8px 0;max-width:720px'>"
        f"<figcaption style='font-weight:bold;margin-bottom:4px'>{_e(title)}</figcaption>"
        f"<svg viewBox='0 0 {WIDTH} {height:.0f}' width='100%' role='img' aria-label='{_e(label or title)}' "
        f"xmlns='http://www.w3.org/2000/svg'>{body}</svg></figure>"
    )


def bar_chart(title: str, bars: Sequence[tuple[str, float, str]], maximum: float = 100.0) -> str:
    """Horizontal bars, one per ``(label, value, text)``, in the given order; each label on its own line above
    its bar (long unit names fit a phone), ``text`` written after the bar. Values are clamped to [0, maximum]."""
    if not bars:
        return ""
    row, bar_width = 34, WIDTH - 80
    parts = []
    for index, (label, value, text) in enumerate(bars):
        top = index * row
        length = max(0.0, min(float(value), maximum)) / maximum * bar_width if maximum else 0.0
        parts.append(
            f"<g class='bar'><text x='0' y='{top + 11}' {FONT}>{_e(label)}</text>"
            f"<rect x='0' y='{top + 15}' width='{bar_width}' height='12' fill='#eceff1'/>"
            f"<rect x='0' y='{top + 15}' width='{length:.1f}' height='12' fill='{COLOURS[0]}'/>"
            f"<text x='{bar_width + 4}' y='{top + 25}' {FONT}>{_e(text)}</text></g>"
        )
    return _figure(title, row * len(bars) + 4, "".join(parts))


def _ticks(count: int, wanted: int = 5) -> list[int]:
    """Up to ``wanted`` evenly spread indexes of ``count`` points, first and last included."""
    if count <= wanted:
        return list(range(count))
    step = (count - 1) / (wanted - 1)
    return sorted({round(i * step) for i in range(wanted)})


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    y_title: str,
    maximum: float = 100.0,
    marker: tuple[int, str] | None = None,
) -> str:
    """Lines over evenly spaced points labelled ``x_labels`` (a few shown as ticks), the y axis from 0 to
    ``maximum`` with ``y_title``; ``marker`` = (index, text) draws a vertical line there (a deadline)."""
    points = len(x_labels)
    if not points or not series:
        return ""
    left, right, top, plot_h = 30, WIDTH - 8, 14, 150
    legend_top = top + plot_h + 30

    def x(index: float) -> float:
        return left + (right - left) * (index / (points - 1) if points > 1 else 0.5)

    def y(value: float) -> float:
        return top + plot_h * (1 - max(0.0, min(float(value), maximum)) / maximum) if maximum else top + plot_h

    parts = [f"<text x='0' y='9' {FONT}>{_e(y_title)}</text>"]
    for fraction in (0, 0.5, 1):
        level = top + plot_h * (1 - fraction)
        parts.append(
            f"<line x1='{left}' x2='{right}' y1='{level:.1f}' y2='{level:.1f}' stroke='#ddd'/>"
            f"<text x='{left - 3}' y='{level + 4:.1f}' text-anchor='end' {FONT}>{maximum * fraction:g}</text>"
        )
    for index in _ticks(points):
        anchor = "end" if index == points - 1 and points > 1 else "middle"  # the last tick stays inside the box
        parts.append(
            f"<text class='tick' x='{x(index):.1f}' y='{top + plot_h + 14}' text-anchor='{anchor}' {FONT}>"
            f"{_e(x_labels[index])}</text>"
        )
    if marker is not None and 0 <= marker[0] < points:
        mx = x(marker[0])
        parts.append(
            f"<line x1='{mx:.1f}' x2='{mx:.1f}' y1='{top}' y2='{top + plot_h}' stroke='#b00020'/>"
            f"<text x='{mx - 2:.1f}' y='{top + 10}' text-anchor='end' fill='#b00020' {FONT}>{_e(marker[1])}</text>"
        )
    for number, line in enumerate(series):
        colour = COLOURS[number % len(COLOURS)]
        coords = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(line.values[:points]))
        if line.filled and coords:
            last = min(len(line.values), points) - 1
            parts.append(
                f"<polygon points='{x(0):.1f},{top + plot_h} {coords} {x(last):.1f},{top + plot_h}' "
                f"fill='{colour}' fill-opacity='0.15'/>"
            )
        dash = " stroke-dasharray='5 4'" if line.dashed else ""
        parts.append(
            f"<polyline class='series' points='{coords}' fill='none' stroke='{colour}' stroke-width='2'{dash}/>"
        )
        if points <= 12:  # few days: each point shown (a single day draws no line)
            parts.extend(
                f"<circle cx='{x(i):.1f}' cy='{y(v):.1f}' r='2.5' fill='{colour}'/>"
                for i, v in enumerate(line.values[:points])
            )
        lx = left + number * 150
        parts.append(
            f"<line x1='{lx}' x2='{lx + 18}' y1='{legend_top - 4}' y2='{legend_top - 4}' stroke='{colour}' "
            f"stroke-width='2'{dash}/><text x='{lx + 22}' y='{legend_top}' {FONT}>{_e(line.name)}</text>"
        )
    return _figure(title, legend_top + 6, "".join(parts))


def column_chart(title: str, x_labels: Sequence[str], series: Sequence[Series], x_title: str) -> str:
    """Grouped columns, one group per ``x_labels`` entry and one column per series, scaled to the largest value."""
    groups = len(x_labels)
    if not groups or not series:
        return ""
    left, right, top, plot_h = 30, WIDTH - 8, 8, 140
    legend_top = top + plot_h + 32
    largest = max((float(v) for s in series for v in s.values), default=0.0) or 1.0
    slot = (right - left) / groups
    width = max(slot * 0.8 / len(series), 0.5)
    parts = [
        f"<line x1='{left}' x2='{right}' y1='{top + plot_h}' y2='{top + plot_h}' stroke='#999'/>",
        f"<text x='{left - 3}' y='{top + 8}' text-anchor='end' {FONT}>{largest:g}</text>",
        f"<text x='{right}' y='{top + plot_h + 26}' text-anchor='end' {FONT}>{_e(x_title)}</text>",
    ]
    for number, group in enumerate(series):
        colour = COLOURS[number % len(COLOURS)]
        for index, value in enumerate(group.values[:groups]):
            height = plot_h * max(0.0, float(value)) / largest
            parts.append(
                f"<rect class='column' data-series='{number}' data-value='{float(value):g}' "
                f"x='{left + index * slot + slot * 0.1 + number * width:.1f}' "
                f"y='{top + plot_h - height:.1f}' width='{width:.1f}' height='{height:.1f}' fill='{colour}'/>"
            )
        lx = left + number * 150
        parts.append(
            f"<rect x='{lx}' y='{legend_top - 9}' width='10' height='10' fill='{colour}'/>"
            f"<text x='{lx + 14}' y='{legend_top}' {FONT}>{_e(group.name)}</text>"
        )
    for index in _ticks(groups):
        parts.append(
            f"<text class='tick' x='{left + (index + 0.5) * slot:.1f}' y='{top + plot_h + 13}' "
            f"text-anchor='middle' {FONT}>{_e(x_labels[index])}</text>"
        )
    return _figure(title, legend_top + 6, "".join(parts))

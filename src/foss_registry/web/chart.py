"""Decisions over time as an SVG bar chart, drawn on the server (no script, no inline style).

Colours come from the stylesheet's classes, so the chart follows light and
dark themes; each bar has a ``<title>`` and the chart a text summary for screen
readers.
"""

from __future__ import annotations

from dataclasses import dataclass

from foss_registry.overview.service import DayDecisions

WIDTH = 960
HEIGHT = 240
_LEFT = 40
_BOTTOM = 28
_TOP = 12


@dataclass(frozen=True)
class Bar:
    """One stacked bar segment: its box, class and tooltip."""

    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Chart:
    """What the template draws: bars, the y-axis ticks and the x-axis labels."""

    width: int
    height: int
    bars: list[Bar]
    ticks: list[tuple[float, int]]
    labels: list[tuple[float, str]]
    baseline: float
    left: int
    summary: str


def _step(top: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if top / step <= 4:
            return step
    return max(1, top // 4)


def decisions_chart(days: list[DayDecisions]) -> Chart:
    """Lay out approved (bottom) and rejected (top) decisions per day."""
    top = max((d.approved + d.rejected for d in days), default=0)
    step = _step(max(top, 1))
    scale_top = max(step, -(-top // step) * step)
    plot_h = HEIGHT - _BOTTOM - _TOP
    slot = (WIDTH - _LEFT) / max(len(days), 1)
    bar_w = max(slot * 0.7, 1.0)
    baseline = HEIGHT - _BOTTOM
    bars: list[Bar] = []
    labels: list[tuple[float, str]] = []
    for i, d in enumerate(days):
        x = _LEFT + i * slot + (slot - bar_w) / 2
        y: float = baseline
        for count, css, word in (
            (d.approved, "approved", "approved"),
            (d.rejected, "rejected", "rejected"),
        ):
            if count:
                h = plot_h * count / scale_top
                y -= h
                bars.append(Bar(x, y, bar_w, h, css, f"{d.day.isoformat()}: {count} {word}"))
        # A label a week, and the last day unless it would touch the one before.
        if i % 7 == 0 or (i == len(days) - 1 and i % 7 >= 4):
            labels.append((x + bar_w / 2, d.day.strftime("%b %d")))
    ticks = [(baseline - plot_h * v / scale_top, v) for v in range(0, scale_top + 1, step)]
    approved = sum(d.approved for d in days)
    rejected = sum(d.rejected for d in days)
    span = f"{days[0].day.isoformat()} to {days[-1].day.isoformat()}" if days else "no days"
    summary = f"{approved} approved and {rejected} rejected from {span}."
    return Chart(WIDTH, HEIGHT, bars, ticks, labels, baseline, _LEFT, summary)

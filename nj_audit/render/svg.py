"""The HTML report's charts, drawn here as inline SVG (no chart library, nothing fetched): rate
bars with the warn and fail thresholds marked, sparklines, the heatmap strip of an institution's
forms, the upload calendar strip, and delay histograms.

Every text from data goes through `markupsafe.escape`; the result is `Markup`, so that the
templates (autoescaped) insert it as it is. Colours are CSS classes (`h0`..`h5`, `nd`), set once
in the page's style: the palette is viridis, readable with every common colour-vision deficiency,
and every cell also carries its value in a `<title>` (shown on hover)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from markupsafe import Markup, escape

HEAT_STEPS = (0.2, 0.4, 0.6, 0.8, 0.9)  # rate < step -> class h0..h4; >= 0.9 -> h5


def heat_class(rate: float | None) -> str:
    """The colour class of a rate: `nd` (no data) or `h0` (lowest) .. `h5` (>= 90%)."""
    if rate is None:
        return "nd"
    return f"h{sum(1 for step in HEAT_STEPS if rate >= step)}"


def _svg(width: float, height: float, body: str, label: str, css: str = "") -> Markup:
    klass = f' class="{css}"' if css else ""
    return Markup(
        f'<svg{klass} width="{width:g}" height="{height:g}" viewBox="0 0 {width:g} {height:g}"'
        f' role="img" aria-label="{escape(label)}">{body}</svg>'
    )


def rate_bar(
    rate: float | None, warn: float | None, fail: float | None, title: str, width: int = 90
) -> Markup:
    """A horizontal bar of `rate` (0..1) with ticks at the warn and fail thresholds."""
    height = 12
    parts = [f'<rect class="track" width="{width}" height="{height}"/>']
    if rate is not None:
        filled = max(0.0, min(rate, 1.0)) * width
        parts.append(f'<rect class="{heat_class(rate)}" width="{filled:.1f}" height="{height}"/>')
    for level, value in (("warn", warn), ("fail", fail)):
        if value is not None:
            x = max(0.0, min(value, 1.0)) * width
            parts.append(
                f'<line class="tick {level}" x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{height}"/>'
            )
    parts.append(f"<title>{escape(title)}</title>")
    return _svg(width, height, "".join(parts), title, "bar")


def sparkline(values: Sequence[float | None], title: str, width: int = 80) -> Markup:
    """A line through the values (0..1, oldest first); a missing value breaks the line."""
    height = 16
    if not values:
        return Markup("")
    step = width / max(len(values) - 1, 1)
    segments: list[list[str]] = [[]]
    for i, value in enumerate(values):
        if value is None:
            segments.append([])
            continue
        y = height - 1 - max(0.0, min(value, 1.0)) * (height - 2)
        segments[-1].append(f"{i * step:.1f},{y:.1f}")
    lines = "".join(
        f'<polyline class="spark" points="{" ".join(points)}"/>'
        if len(points) > 1
        else '<circle class="spark-dot" cx="{}" cy="{}" r="1.5"/>'.format(*points[0].split(","))
        for points in segments
        if points
    )
    return _svg(width, height, f"{lines}<title>{escape(title)}</title>", title, "sparkline")


def heat_strip(cells: Sequence[tuple[float | None, str]], size: int = 14) -> Markup:
    """One square per form: its colour class by rate and its title (the value on hover)."""
    parts = [
        f'<rect x="{i * (size + 1)}" width="{size}" height="{size}" class="{heat_class(rate)}">'
        f"<title>{escape(title)}</title></rect>"
        for i, (rate, title) in enumerate(cells)
    ]
    return _svg(len(cells) * (size + 1), size, "".join(parts), "heatmap", "heat")


def calendar_strip(
    start: date, days: int, rows: dict[date, int], label: str, size: int = 9
) -> Markup:
    """One square per day of the period: filled (darker for more rows) on upload days, hollow on
    missed ones, so gaps stand out."""
    most = max(rows.values(), default=0)
    parts = []
    for i in range(days):
        day = start + timedelta(days=i)
        n = rows.get(day, 0)
        level = "miss" if n == 0 else f"d{min(3, 1 + (3 * n) // (most + 1))}"
        parts.append(
            f'<rect x="{i * (size + 1)}" width="{size}" height="{size}" class="{level}">'
            f"<title>{day.isoformat()}: {n}</title></rect>"
        )
    return _svg(days * (size + 1), size, "".join(parts), label, "calendar")


def histogram(counts: Sequence[int], names: Sequence[str], label: str, width: int = 140) -> Markup:
    """Bars of counts per bucket (delays), scaled to the largest; each with its count on hover."""
    height, gap = 36, 2
    bar = (width - gap * (len(counts) - 1)) / max(len(counts), 1)
    most = max(counts, default=0) or 1
    parts = []
    for i, (count, name) in enumerate(zip(counts, names)):
        h = count / most * (height - 1)
        x = i * (bar + gap)
        parts.append(
            f'<rect class="hist" x="{x:.1f}" y="{height - h:.1f}" width="{bar:.1f}"'
            f' height="{h:.1f}"><title>{escape(name)}: {count}</title></rect>'
            f'<rect class="base" x="{x:.1f}" y="{height - 1}" width="{bar:.1f}" height="1"/>'
        )
    return _svg(width, height, "".join(parts), label, "histogram")

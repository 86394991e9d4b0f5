"""Charts as inline SVG, drawn on the server: no script, no chart library, nothing fetched from the network.

Each function returns safe HTML (an ``<svg>`` element with a ``<title>`` per bar or point, so a pointer shows the
value, and an ``aria-label`` describing the chart for screen readers) or a short sentence when there is nothing to
draw.
"""
from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 480, 140
LEFT, BOTTOM, TOP = 34, 22, 10  # room for the axis labels
GREEN, RED, AMBER, GREY = "#3a7d44", "#ba2121", "#c77700", "#999"


def _frame(label: str, most: float, body: SafeString, width: int = WIDTH) -> SafeString:
    axis = format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>'
        '<text x="{}" y="{}" font-size="10" text-anchor="end">{}</text>'
        '<text x="{}" y="{}" font-size="10" text-anchor="end">0</text>',
        LEFT, HEIGHT - BOTTOM, width, HEIGHT - BOTTOM, GREY,
        LEFT - 4, TOP + 8, _number(most), LEFT - 4, HEIGHT - BOTTOM)
    return format_html('<svg xmlns="http://www.w3.org/2000/svg" role="img" class="as-chart" aria-label="{}" '
                       'width="{}" height="{}" viewBox="0 0 {} {}">{}{}</svg>',
                       label, width, HEIGHT, width, HEIGHT, axis, body)


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def bars(points: list[tuple[str, float]], label: str, color: str = GREEN, width: int = WIDTH) -> SafeString:
    """A bar per (name, value), left to right; every third name is written under the axis."""
    if not points or not any(value for _, value in points):
        return format_html('<p class="as-chart-empty">{}: nothing yet.</p>', label)
    most = max(value for _, value in points) or 1
    step = (width - LEFT - 4) / len(points)
    plot = HEIGHT - BOTTOM - TOP
    every = max(1, -(-len(points) // 7))  # at most seven names under the axis

    def bar(i: int, name: str, value: float):
        h = plot * value / most
        x = LEFT + 2 + i * step
        return (round(x, 1), round(HEIGHT - BOTTOM - h, 1), round(max(1.0, step - 2), 1), round(h, 1), color,
                f"{name}: {_number(value)}")

    rects = format_html_join("", '<rect class="as-bar" x="{}" y="{}" width="{}" height="{}" fill="{}">'
                                 '<title>{}</title></rect>',
                             (bar(i, name, value) for i, (name, value) in enumerate(points)))
    names = format_html_join("", '<text x="{}" y="{}" font-size="9" text-anchor="middle">{}</text>',
                             ((round(LEFT + 2 + i * step + step / 2, 1), HEIGHT - 8, name)
                              for i, (name, _) in enumerate(points) if i % every == 0))
    return _frame(label, most, format_html("{}{}", rects, names), width)


def hbars(points: list[tuple[str, float]], label: str, color: str = RED) -> SafeString:
    """Horizontal bars, one per (name, value), largest first: for categories with long names (failure reasons)."""
    points = sorted((p for p in points if p[1]), key=lambda p: -p[1])[:10]
    if not points:
        return format_html('<p class="as-chart-empty">{}: none.</p>', label)
    most = max(value for _, value in points)
    row, name_width, bar_width = 18, 200, 220
    height = row * len(points) + 4
    rows = format_html_join(
        "", '<text x="{}" y="{}" font-size="11" text-anchor="end">{}</text>'
            '<rect class="as-bar" x="{}" y="{}" width="{}" height="12" fill="{}"><title>{}: {}</title></rect>'
            '<text x="{}" y="{}" font-size="11">{}</text>',
        ((name_width - 6, i * row + 13, name[:32], name_width, i * row + 3, round(max(1.0, bar_width * v / most), 1),
          color, name, _number(v), name_width + round(bar_width * v / most) + 4, i * row + 13, _number(v))
         for i, (name, v) in enumerate(points)))
    return format_html('<svg xmlns="http://www.w3.org/2000/svg" role="img" class="as-chart" aria-label="{}" '
                       'width="{}" height="{}" viewBox="0 0 {} {}">{}</svg>',
                       label, name_width + bar_width + 50, height, name_width + bar_width + 50, height, rows)


def line(points: list[tuple[str, float]], label: str, color: str = AMBER, width: int = WIDTH) -> SafeString:
    """A line through (name, value) points, with a dot (and its value as a tooltip) at each."""
    if not points:
        return format_html('<p class="as-chart-empty">{}: nothing yet.</p>', label)
    most = max(value for _, value in points) or 1
    plot = HEIGHT - BOTTOM - TOP
    step = (width - LEFT - 12) / max(1, len(points) - 1)
    xy = [(round(LEFT + 6 + i * step, 1), round(HEIGHT - BOTTOM - plot * value / most, 1))
          for i, (_, value) in enumerate(points)]
    path = " ".join(f"{x},{y}" for x, y in xy)
    dots = format_html_join("", '<circle class="as-point" cx="{}" cy="{}" r="3" fill="{}"><title>{}: {}</title>'
                                '</circle>',
                            ((x, y, color, name, _number(value))
                             for (x, y), (name, value) in zip(xy, points, strict=True)))
    every = max(1, len(points) // 6)
    names = format_html_join("", '<text x="{}" y="{}" font-size="9" text-anchor="middle">{}</text>',
                             ((x, HEIGHT - 8, name)
                              for i, ((x, _), (name, _)) in enumerate(zip(xy, points, strict=True)) if i % every == 0))
    body = format_html('<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>{}{}', path, color, dots,
                       names)
    return _frame(label, most, body, width)

"""Server-rendered SVG charts of an Analytics value, beside data tables.

The dashboard's CSP forbids inline scripts and styles, so charts are static SVG drawn
here: shapes carry classes that the stylesheet colours, and each chart names itself
(<title>, <desc>) for screen readers; the page puts the same numbers in a table.
Every label goes through markupsafe.escape: country codes and failure reasons are ours,
but nothing here should depend on that.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from markupsafe import Markup, escape

from authkong.admin.analytics import Analytics, Point, Span

WIDTH = 640
HEIGHT = 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28
BAR_ROW = 26
BAR_LABEL = 150

SERIES = (
    ("challenges", "Challenges"),
    ("solves", "Solves"),
    ("verified", "Verified"),
    ("rejected", "Rejected"),
)


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    values: tuple[int, ...]


def bucket_label(span: Span, start_ms: int) -> str:
    when = datetime.fromtimestamp(start_ms / 1000, UTC)
    if span is Span.MONTH:
        return when.strftime("%b %d")
    return when.strftime("%H:%M")


def _value(point: Point, name: str) -> int:
    value: int = getattr(point, name)
    return value


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def traffic_rows(analytics: Analytics) -> list[Row]:
    return [
        Row(
            bucket_label(analytics.span, p.start_ms),
            tuple(_value(p, name) for name, _ in SERIES),
        )
        for p in analytics.points
    ]


def traffic_chart(analytics: Analytics, chart_id: str) -> Markup:
    """One line per series over the span's buckets, oldest on the left."""
    points = analytics.points
    top = max([_value(p, name) for p in points for name, _ in SERIES] + [1])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(points) - 1, 1)

    def xy(i: int, v: int) -> str:
        return f"{_fmt(LEFT + i * step)},{_fmt(TOP + plot_h - v / top * plot_h)}"

    totals = analytics.totals
    desc = ", ".join(f"{label}: {_value(totals, name)}" for name, label in SERIES)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{chart_id}-t">Traffic over the last {escape(analytics.span.value)}</title>',
        f'<desc id="{chart_id}-d">Totals: {escape(desc)}. The table below lists every bucket.'
        "</desc>",
        f'<line class="axis" x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" '
        f'y2="{TOP + plot_h}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}"/>',
        f'<text class="tick" x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end">{top}</text>',
        f'<text class="tick" x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end">0</text>',
    ]
    if points:
        first = escape(bucket_label(analytics.span, points[0].start_ms))
        last = escape(bucket_label(analytics.span, points[-1].start_ms))
        parts.append(f'<text class="tick" x="{LEFT}" y="{HEIGHT - 8}">{first}</text>')
        parts.append(
            f'<text class="tick" x="{WIDTH - RIGHT}" y="{HEIGHT - 8}" text-anchor="end">'
            f"{last}</text>"
        )
    for name, _label in SERIES:
        coords = " ".join(xy(i, _value(p, name)) for i, p in enumerate(points))
        parts.append(f'<polyline class="line line-{name}" fill="none" points="{coords}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every variable part is escaped or a number)


def bar_chart(items: list[tuple[str, int]], chart_id: str, title: str) -> Markup:
    """Horizontal bars, one per (label, count), in the order given."""
    height = TOP + BAR_ROW * max(len(items), 1) + 4
    top = max([count for _, count in items] + [1])
    room = WIDTH - BAR_LABEL - RIGHT - 56
    summary = "; ".join(f"{label or 'unknown'}: {count}" for label, count in items) or "no data"
    parts = [
        f'<svg class="chart bars" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(summary)}</desc>',
    ]
    if not items:
        parts.append(f'<text class="tick" x="{LEFT}" y="{TOP + 14}">No data yet</text>')
    for i, (label, count) in enumerate(items):
        y = TOP + i * BAR_ROW
        width = _fmt(count / top * room)
        parts.append(
            f'<text class="tick" x="{BAR_LABEL - 8}" y="{y + 15}" text-anchor="end">'
            f"{escape(label or 'unknown')}</text>"
            f'<rect class="bar" x="{BAR_LABEL}" y="{y + 3}" width="{width}" height="16"/>'
            f'<text class="tick" x="{_fmt(BAR_LABEL + count / top * room + 6)}" y="{y + 15}">'
            f"{count}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704  (every variable part is escaped or a number)

"""Small inline SVG bar charts for the HTML reports (no plotting library, no external files)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    y_label: str = "",
    width: int = 640,
    height: int = 260,
) -> str:
    """Grouped vertical bars: one group per label, one bar per series (e.g. before / after)."""
    colours = ("#8c2d04", "#2b8cbe", "#31a354", "#756bb1")
    left, right, top, bottom = 56, 16, 28, 48
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v for _, values in series for v in values), default=0.0) or 1.0
    n = max(len(labels), 1)
    group_w = plot_w / n
    bar_w = max(group_w * 0.8 / max(len(series), 1), 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
        f'<text x="{width / 2:.0f}" y="16" text-anchor="middle" font-size="13">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#333"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#333"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{_fmt(peak)}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    if y_label:
        parts.append(
            f'<text transform="translate(14 {top + plot_h / 2:.0f}) rotate(-90)" text-anchor="middle">'
            f"{escape(y_label)}</text>"
        )
    for i, label in enumerate(labels):
        x0 = left + i * group_w + group_w * 0.1
        for j, (_, values) in enumerate(series):
            value = values[i] if i < len(values) else 0.0
            h = plot_h * value / peak
            x = x0 + j * bar_w
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{colours[j % len(colours)]}"><title>{escape(label)}: {_fmt(value)}</title></rect>'
            )
        parts.append(
            f'<text x="{left + (i + 0.5) * group_w:.1f}" y="{top + plot_h + 14}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    for j, (name, _) in enumerate(series):
        y = height - 12
        x = left + j * 130
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{colours[j % len(colours)]}"/>')
        parts.append(f'<text x="{x + 14}" y="{y}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _fmt(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ") if value >= 10 or float(value).is_integer() else f"{value:.2f}"

"""Charts drawn by ShipBridge itself as inline SVG (nothing loaded from another site): the
dashboard's orders imported and shipped per day."""
from __future__ import annotations

import datetime as dt

from django.utils.formats import date_format
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

IMPORTED_COLOUR = "#417690"
SHIPPED_COLOUR = "#2e9e4f"


def daily_bars_svg(*, days: list[dt.date], imported: dict[dt.date, int], shipped: dict[dt.date, int],
                   width: int = 600, height: int = 150) -> SafeString:
    """Two bars a day (imported, shipped) over `days`, a scale on the left, every bar titled
    with its day and number (a browser shows it on hover; a screen reader reads it)."""
    left, bottom, top = 34, 18, 8
    plot_w, plot_h = width - left - 4, height - bottom - top
    peak = max([1, *imported.values(), *shipped.values()])
    step = plot_w / max(1, len(days))
    bar = max(1.0, step / 2 - 1)
    parts = []
    for fraction in (0, 0.5, 1):
        y = top + plot_h - fraction * plot_h
        parts.append(f'<line x1="{left}" x2="{width - 4}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ccc" stroke-width="0.5"/>'
                     f'<text x="{left - 4}" y="{y + 3:.1f}" font-size="10" text-anchor="end" fill="#777">'
                     f'{round(peak * fraction)}</text>')
    bar_title = _("%(day)s, %(what)s: %(count)s")
    for index, day in enumerate(days):
        x = left + index * step
        for offset, values, colour, what in ((0, imported, IMPORTED_COLOUR, _("imported")),
                                             (bar, shipped, SHIPPED_COLOUR, _("shipped"))):
            count = values.get(day, 0)
            h = plot_h * count / peak
            title = bar_title % {"day": date_format(day), "what": what, "count": count}
            parts.append(f'<rect x="{x + offset:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="{colour}"><title>{escape(title)}</title></rect>')
        if (len(days) - 1 - index) % 7 == 0:  # a label a week, the last day's included
            parts.append(f'<text x="{x:.1f}" y="{height - 4}" font-size="10" fill="#777">'
                         f'{escape(date_format(day, "MONTH_DAY_FORMAT"))}</text>')
    body = mark_safe("".join(parts))  # numbers and escaped words only
    label = _("Orders imported and shipped per day, %(first)s to %(last)s") % {
        "first": date_format(days[0]), "last": date_format(days[-1])} if days else ""
    return format_html('<svg viewBox="0 0 {} {}" role="img" aria-label="{}" class="sb-daily-chart">{}</svg>',
                       width, height, label, body) if days else mark_safe("")

"""Rendering of evaluation.report_tables cells on report pages (same text as downloads)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from evaluation.report_tables import Cell, cell_text

register = template.Library()


@register.simple_tag
def report_cell(row: dict, column, digits: int = 3):
    """One ``<td>``/``<th>`` body: the value as the downloads write it (without the CI,
    which goes to a second line), bold when best, a link when the cell has one."""
    cell = row.get(column.key)
    text = cell_text(cell, column, digits, with_ci=False)
    if not text:
        return mark_safe('<span class="muted" title="not computed">—</span>')
    html = format_html("{}", text)
    if isinstance(cell, Cell):
        if cell.url:
            html = format_html('<a href="{}">{}</a>', cell.url, html)
        if cell.best:
            html = format_html('<strong title="best in column">{}</strong>', html)
        if cell.ci is not None and None not in tuple(cell.ci):
            lo, hi = cell.ci
            html = format_html(
                '{}<br><span class="muted small" title="95% confidence interval">[{}, {}]</span>',
                html,
                f"{lo:.{digits}f}",
                f"{hi:.{digits}f}",
            )
    return html

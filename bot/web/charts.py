"""Charts drawn on the server as SVG with pygal: no script, nothing fetched by the browser, and they scale to a
phone's width (no fixed size, a viewBox)."""
from __future__ import annotations

import pygal
from pygal.style import Style

STYLE = Style(font_family="'Noto Sans CJK SC', 'Noto Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif",
              background="transparent", plot_background="transparent",
              colors=("#1f6feb", "#2da44e", "#d4a72c", "#cf222e"), label_font_size=13, major_label_font_size=13,
              legend_font_size=14, value_font_size=12, title_font_size=16)
COMMON = dict(style=STYLE, explicit_size=False, js=[], disable_xml_declaration=True, legend_at_bottom=True,
              legend_at_bottom_columns=2, margin=8, show_y_guides=True, print_values=False)


def rates_over_weeks(labels: list[str], series: dict[str, list[float | None]]) -> str:
    """The three rates week by week, as lines between 0 and 100 %."""
    chart = pygal.Line(width=640, height=320, range=(0, 100), value_formatter=lambda v: f"{v:.0f}%",
                       x_label_rotation=0, show_minor_x_labels=False, x_labels_major_every=2, **COMMON)
    chart.x_labels = labels
    for name, values in series.items():
        chart.add(name, [None if v is None else round(v * 100, 1) for v in values])
    return chart.render(is_unicode=True)


def bars(labels: list[str], series: dict[str, list[int]]) -> str:
    """Counts per grid or per person, side by side, one group of bars per label, read from top to bottom."""
    height = 90 + 34 * max(1, len(labels)) * max(1, len(series)) // 2
    chart = pygal.HorizontalBar(width=640, height=height, **COMMON)
    chart.x_labels = labels
    for name, values in series.items():
        chart.add(name, values)
    return chart.render(is_unicode=True)

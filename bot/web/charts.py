"""Charts drawn on the server as SVG with pygal: no script, nothing fetched by the browser, and they scale to a
phone's width (no fixed size, a viewBox)."""
from __future__ import annotations

import pygal
from pygal.style import Style

STYLE = Style(font_family="'Noto Sans CJK SC', 'Noto Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif",
              background="transparent", plot_background="transparent",
              colors=("#1f6feb", "#2da44e", "#d4a72c", "#cf222e"), label_font_size=14, major_label_font_size=14,
              legend_font_size=16, value_font_size=12, title_font_size=16)
# Drawn 480 wide and scaled to the screen: on a phone's 390 px the labels keep most of their size.
COMMON = dict(style=STYLE, explicit_size=False, js=[], disable_xml_declaration=True, legend_at_bottom=True,
              legend_at_bottom_columns=3, margin=8, show_y_guides=True, print_values=False, truncate_label=-1,
              truncate_legend=-1)
WIDTH = 480


def rates_over_weeks(labels: list[str], series: dict[str, list[float | None]], no_data: str) -> str:
    """The three rates week by week, as lines between 0 and 100 %."""
    chart = pygal.Line(width=WIDTH, height=300, no_data_text=no_data, range=(0, 100),
                       value_formatter=lambda v: f"{v:.0f}%", show_minor_x_labels=False, x_labels_major_every=3,
                       **COMMON)
    chart.x_labels = labels
    for name, values in series.items():
        chart.add(name, [None if v is None else round(v * 100, 1) for v in values])
    return chart.render(is_unicode=True)


def bars(labels: list[str], series: dict[str, list[int]], no_data: str) -> str:
    """Counts per grid or per person, side by side, one group of bars per label, read from top to bottom."""
    height = 150 + 14 * max(1, len(labels)) * max(1, len(series))
    options = {**COMMON, "margin_left": 40, "legend_at_bottom_columns": 4}  # CJK names are wider than pygal guesses
    chart = pygal.HorizontalBar(width=WIDTH, height=height, no_data_text=no_data, **options)
    chart.x_labels = labels
    for name, values in series.items():
        chart.add(name, values)
    return chart.render(is_unicode=True)

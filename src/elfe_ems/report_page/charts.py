"""The charts of a report page as JSON data, drawn by ``charts.js`` with uPlot.

A chart is a dict that ``chart.html.j2`` embeds as ``<script type="application/json">``; the
values are in the unit of the chart's axis, a missing value is ``None`` (JSON has no NaN).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Chart = dict[str, object]
BAR_SERIES_MAX = 2  # charts.js sets the bars of a category on either side of its middle


@dataclass(frozen=True)
class Series:
    """One line or one set of bars: its legend, colour, values and line dash [px]."""

    label: str
    colour: str
    values: Iterable[float]
    dash: Sequence[int] = ()


def values_of(values: Iterable[float]) -> list[float | None]:
    """Plain floats for JSON, ``None`` where a value is missing (NaN)."""
    return [None if math.isnan(v) else float(v) for v in values]


def _series(series: Sequence[Series]) -> list[dict[str, object]]:
    return [
        {"label": s.label, "colour": s.colour, "dash": list(s.dash), "values": values_of(s.values)}
        for s in series
    ]


def line_chart(
    x: Sequence[float],
    series: Sequence[Series],
    y_label: str,
    *,
    time_zone: str | None = None,
    step: float | None = None,
    x_label: str = "",
    x_ticks: Sequence[tuple[float, str]] = (),
) -> Chart:
    """Lines over ``x``. With ``time_zone``, ``x`` are Unix seconds shown in that zone;
    otherwise ``x_label`` names ``x`` and ``x_ticks`` label chosen positions of it. With
    ``step``, each value holds over ``step`` (in the unit of ``x``) from its ``x``: a staircase,
    as a step's mean power. The value axis always shows 0."""
    return {
        "kind": "lines",
        "x": list(x),
        "time_zone": time_zone,
        "x_label": x_label,
        "step": step,
        "x_ticks": [[float(at), label] for at, label in x_ticks],
        "y_label": y_label,
        "series": _series(series),
    }


def bar_chart(categories: Sequence[str], series: Sequence[Series], value_label: str) -> Chart:
    """Horizontal bars, one group per category (one bar of each series), on a value axis
    centred on 0, each bar labelled with its value (2 decimals)."""
    if len(series) > BAR_SERIES_MAX:
        raise ValueError(f"a bar chart draws at most {BAR_SERIES_MAX} series side by side")
    return {
        "kind": "bars",
        "categories": list(categories),
        "value_label": value_label,
        "series": _series(series),
    }

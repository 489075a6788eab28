"""The reports' page: text escaped, NaN as JSON null, at most two bar series."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from elfe_ems.backtest.report import write_report
from elfe_ems.report_page.charts import Series, bar_chart, values_of
from report_pages import read_report


def test_the_page_escapes_its_text(tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    write_report(path, [], {}, "<b>A & B</b>")
    text = path.read_text(encoding="utf-8")
    read_report(text)  # still well nested: the title's tags are text
    assert "<title>&lt;b&gt;A &amp; B&lt;/b&gt;</title>" in text
    assert "<p>None.</p>" in text  # no broken constraint


def test_a_missing_value_is_null() -> None:
    assert values_of([1, math.nan, 2.5]) == [1.0, None, 2.5]


def test_a_bar_chart_has_at_most_two_series() -> None:
    series = [Series(str(k), "#000", [1.0]) for k in range(3)]
    with pytest.raises(ValueError, match="at most 2"):
        bar_chart(["a"], series, "kWh")

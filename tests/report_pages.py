"""The report pages of ``ems demo`` and ``ems backtest`` read as an HTML parser reads them: a
well-nested page that loads nothing (no ``src``, ``href`` or ``<link>``), draws no hand-made
SVG, inlines the vendored uPlot, and embeds each chart's data as JSON (``report_page``)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from importlib.resources import files
from typing import Any

VENDOR = files("elfe_ems").joinpath("web", "static", "vendor")
VOID = {"br", "meta", "input", "img", "hr", "link", "col", "area", "base", "source", "wbr"}


@dataclass
class ReportPage:
    """What a report page holds: its charts' data by name, its inline scripts and styles,
    every tag seen and every attribute that would load something."""

    charts: dict[str, dict[str, Any]] = field(default_factory=dict)
    scripts: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    tags: set[str] = field(default_factory=set)
    loads: list[str] = field(default_factory=list)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = ReportPage()
        self.open: list[str] = []
        self.text: list[str] = []
        self.chart: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.page.tags.add(tag)
        named = dict(attrs)
        self.page.loads += [f"{tag} {a}={v}" for a, v in attrs if a in ("src", "href")]
        if tag not in VOID:
            self.open.append(tag)
        if tag == "script" and named.get("type") == "application/json":
            self.chart = named["data-chart"]
        self.text = []

    def handle_endtag(self, tag: str) -> None:
        assert self.open[-1:] == [tag], f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()
        text = "".join(self.text)
        if tag == "script" and self.chart is not None:
            assert self.chart not in self.page.charts, f"two charts named {self.chart}"
            self.page.charts[self.chart] = json.loads(text)
            self.chart = None
        elif tag == "script":
            self.page.scripts.append(text)
        elif tag == "style":
            self.page.styles.append(text)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def read_report(html: str) -> ReportPage:
    """Parse a report page and check that it stands alone (see the module docstring)."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    page = reader.page
    assert reader.open == [], f"never closed: {reader.open}"
    assert "svg" not in page.tags
    assert "link" not in page.tags
    assert page.loads == []
    assert VENDOR.joinpath("uPlot.iife.min.js").read_text(encoding="utf-8") in page.scripts
    assert VENDOR.joinpath("uPlot.min.css").read_text(encoding="utf-8") in page.styles
    return page

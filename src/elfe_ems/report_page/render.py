"""A report page from its Jinja2 template, with uPlot and the charts' script inlined."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

VENDOR = ("web", "static", "vendor")  # the dashboard's copy of uPlot, read as package data
UPLOT_JS, UPLOT_CSS = "uPlot.iife.min.js", "uPlot.min.css"


def _text(*path: str) -> str:
    return files("elfe_ems").joinpath(*path).read_text(encoding="utf-8")


def _inline(text: str, element: str) -> Markup:
    """``text`` to inline as the content of a ``<script>`` or ``<style>`` element."""
    # the HTML parser would end the element there and show the rest as text
    if f"</{element}" in text.lower():
        raise ValueError(f"cannot inline a text holding </{element}")
    return Markup(text)  # our own files, checked above


@cache
def _assets() -> dict[str, Markup]:
    return {
        "uplot_js": _inline(_text(*VENDOR, UPLOT_JS), "script"),
        "uplot_css": _inline(_text(*VENDOR, UPLOT_CSS), "style"),
        "charts_js": _inline(_text("report_page", "charts.js"), "script"),
    }


@cache
def _environment(package: str) -> Environment:
    environment = Environment(
        loader=ChoiceLoader([PackageLoader(package), PackageLoader("elfe_ems.report_page")]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # a NaN would make the embedded data invalid JSON: charts.values_of turns it into None
    environment.policies["json.dumps_kwargs"] = {"allow_nan": False, "sort_keys": False}
    return environment


def render_page(package: str, template: str, **context: Any) -> str:
    """The page of ``template`` (in ``package``'s ``templates/`` folder, which may extend
    ``page.html.j2`` and import the ``chart`` macro of ``chart.html.j2``) for ``context``."""
    return _environment(package).get_template(template).render(**_assets(), **context)

"""The dashboard's FastAPI app: four pages, their JSON API, and the files they load.

Pages: ``/`` (the current plan), ``/rounds`` (the run log) and ``/rounds/ID`` (a round's
plan), ``/forecast`` (forecasts against the measured balance), ``/health`` (the checks of
``ems doctor``). Each is its content (``static/pages``) in the layout all share
(``static/layout.html``), with a script that fetches ``/api/...``; the OpenAPI description is
``/api/openapi.json``. Everything is served by the app itself (no CDN; the
content security policy allows this origin only). Access rules: :mod:`elfe_ems.web.access`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.metadata import version
from pathlib import Path
from string import Template

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from elfe_ems.config import Settings
from elfe_ems.web.access import Handler, required_token, token_guard
from elfe_ems.web.api import api_router
from elfe_ems.web.databases import DatabaseUnavailable, ReadOnlyDatabases, read_only_settings
from elfe_ems.web.monitoring import monitoring_router
from elfe_ems.web.plans import PlanUnavailable

STATIC = Path(__file__).parent / "static"

PAGES = {
    "/": ("plan", "Plan"),
    "/rounds/{run_id:int}": ("plan", "Plan"),
    "/rounds": ("rounds", "Rounds"),
    "/forecast": ("forecast", "Forecast"),
    "/health": ("health", "Health"),
}
"""Page path → (its page: ``static/pages/NAME.html`` and ``static/NAME.js``, its title)."""

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _page(name: str, title: str) -> Callable[[], HTMLResponse]:
    """A page: its content in the layout every page shares (header, styles, scripts)."""
    layout = Template((STATIC / "layout.html").read_text(encoding="utf-8"))
    main = (STATIC / "pages" / f"{name}.html").read_text(encoding="utf-8")
    html = layout.substitute(title=title, script=name, main=main)

    def page() -> HTMLResponse:
        return HTMLResponse(html, headers={"Cache-Control": "no-cache"})

    return page


async def _unavailable(_request: Request, error: Exception) -> Response:
    return JSONResponse({"detail": str(error)}, 503, {"Retry-After": "60"})


async def _no_plan(_request: Request, error: Exception) -> Response:
    return JSONResponse({"detail": str(error)}, 404)


async def _secured(request: Request, call_next: Handler) -> Response:
    response = await call_next(request)
    response.headers.update(SECURITY_HEADERS)
    return response


def create_app(settings: Settings) -> FastAPI:
    """The app on ``settings``'s databases, bound (for its access rules) to ``web_host``.

    Raises :class:`~elfe_ems.config.ConfigError` when ``web_host`` is not the loopback and no
    ``web_token`` is set, and :class:`~elfe_ems.db.engine.DatabaseUrlError` for a database URL
    that cannot be used.
    """
    token = required_token(settings)
    settings = read_only_settings(settings)  # every route reads only, the health checks too
    databases = ReadOnlyDatabases(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        databases.dispose()

    app = FastAPI(
        title="ELFE EMS dashboard",
        description="Read-only API of the ELFE energy management system: plans, rounds, "
        "forecasts and health. Times are Unix seconds UTC, powers W, energies Wh.",
        version=version("elfe-ems"),
        openapi_url="/api/openapi.json",
        docs_url=None,  # the interactive docs would load their scripts from a CDN
        redoc_url=None,
        lifespan=lifespan,
    )
    app.include_router(api_router(settings, databases))
    app.include_router(monitoring_router(settings, databases))
    for path, (name, title) in PAGES.items():
        app.add_api_route(path, _page(name, title), methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_exception_handler(DatabaseUnavailable, _unavailable)
    app.add_exception_handler(PlanUnavailable, _no_plan)
    app.middleware("http")(_secured)
    if token is not None:
        app.middleware("http")(token_guard(token))  # added last: runs first
    return app

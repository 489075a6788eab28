"""``ems web``: serve the read-only dashboard and its JSON API with uvicorn."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from elfe_ems.cli.common import ConfigOption, fail, settings_from
from elfe_ems.config import ConfigError


def web_command(
    host: Annotated[
        str | None,
        typer.Option(
            "--host",
            help="Address to listen on (default: web_host, 127.0.0.1). Any other address "
            "than the loopback needs web_token.",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            min=1,
            max=65535,
            help="Port to listen on (default: web_port, 8080).",
            show_default=False,
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Serve the read-only dashboard and its JSON API (/api).

    Pages: current plan, rounds, forecast, health. Runs until Ctrl-C or SIGTERM.
    """
    # here, not at the top: the web stack would slow down every other command's start
    import uvicorn  # noqa: PLC0415

    from elfe_ems.db.engine import DatabaseUrlError  # noqa: PLC0415
    from elfe_ems.web.access import HideTokens  # noqa: PLC0415
    from elfe_ems.web.app import create_app  # noqa: PLC0415

    settings = settings_from(config)
    chosen = {"web_host": host, "web_port": port}
    settings = settings.model_copy(update={k: v for k, v in chosen.items() if v is not None})
    try:
        app = create_app(settings)
    except (ConfigError, DatabaseUrlError) as error:
        raise fail(str(error)) from None
    server = uvicorn.Config(app, host=settings.web_host, port=settings.web_port)
    logging.getLogger("uvicorn.access").addFilter(HideTokens())  # after uvicorn's log setup
    uvicorn.Server(server).run()

"""Constants and helpers of the weather tests (their fixtures are in ``conftest.py``).

The recorded answers (``recorded/``, see its README) were fetched at ``NOW`` = 2026-10-24
10:58 UTC. ``TOKEN`` is the Météo-Concept token of the settings: no log line or error may
show it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from elfe_ems.config import Settings
from elfe_ems.store.tables import weather_forecast, weather_forecast_history

RECORDED = Path(__file__).parent / "recorded"
NOW = 1_792_839_480  # 2026-10-24 10:58:00 UTC
TOKEN = "tok-3f9a2c7e/b+d=1"  # has characters that URL encoding changes
MC_NEXT_HOURS = "https://api.meteo-concept.com/api/forecast/nextHours"
MC_PERIODS = "https://api.meteo-concept.com/api/forecast/daily/periods"
OPEN_METEO = "https://api.open-meteo.com/v1/forecast"

Serve = Callable[..., None]
"""``serve(meteo_concept=True, open_meteo=True)`` (fixture): the recorded answers served."""


def recorded(name: str) -> Any:
    """A recorded answer, decoded."""
    return json.loads((RECORDED / name).read_text(encoding="utf-8"))


def settings(store_url: str = "sqlite://", **values: Any) -> Settings:
    """Settings of the tests: the token ``TOKEN``, Redon, the default providers."""
    return Settings(**({"store_url": store_url, "meteo_concept_token": TOKEN} | values))


def rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of both weather tables, in key order."""
    with engine.connect() as connection:
        return {
            table.name: [
                dict(r)
                for r in connection.execute(
                    select(table).order_by(*table.primary_key.columns)
                ).mappings()
            ]
            for table in (weather_forecast, weather_forecast_history)
        }

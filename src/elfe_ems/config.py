"""The EMS configuration: a TOML file and ``EMS_…`` environment variables.

Precedence, highest first: environment variables (``EMS_`` + the key in upper case, e.g.
``EMS_STORE_URL``), then the TOML file named by ``--config`` or ``EMS_CONFIG`` (flat
``key = value`` lines, the keys of :class:`Settings`), then the defaults. With no file and no
variable the EMS runs embedded: its three databases are one SQLite file in ``./ems-data``.
``examples/config.toml`` documents every key.

Database URLs may hold passwords: show them only through :func:`mask_url`, and pass any
message that may quote them through :func:`redact`, or every secret of the settings through
:func:`without_secrets`.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, quote_plus
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

CONFIG_ENV = "EMS_CONFIG"
"""The environment variable that names the TOML configuration file."""

DEFAULT_DATA_DIR = Path("ems-data")
_URL_FIELDS = ("coordination_url", "store_url", "output_url")
MASK = "***"


WINDOW = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


def parse_window(text: str) -> tuple[int, int]:
    """``"HH:MM-HH:MM"`` as seconds after local midnight ``(start, end)``; an end at or
    before the start crosses midnight. Raises ValueError naming the text."""
    match = WINDOW.match(text.strip())
    if match is None:
        raise ValueError(f"off-peak window {text!r} is not HH:MM-HH:MM")
    hours = (int(match[1]), int(match[3]))
    minutes = (int(match[2]), int(match[4]))
    if (
        max(hours) > 24
        or max(minutes) > 59
        or any(h == 24 and m for h, m in zip(hours, minutes, strict=True))
    ):
        raise ValueError(f"off-peak window {text!r} has an hour of day out of 00:00-24:00")
    return hours[0] * 3600 + minutes[0] * 60, hours[1] * 3600 + minutes[1] * 60


class ConfigError(ValueError):
    """A configuration that cannot be used; the message says which key and why (no values)."""


def _data_dir(data: dict[str, Any]) -> Path:
    return Path(data.get("data_dir", DEFAULT_DATA_DIR))


def _embedded_url(data: dict[str, Any]) -> str:
    return f"sqlite:///{(_data_dir(data) / 'ems.sqlite').as_posix()}"


class Settings(BaseSettings):
    """Every setting of the EMS, with its default.

    Build it with :func:`load_settings`, which reads the TOML file too; ``Settings(**values)``
    takes ``values`` in place of the file's (the environment still wins over them).
    """

    model_config = SettingsConfigDict(env_prefix="EMS_", extra="forbid", frozen=True)

    data_dir: Path = Field(
        DEFAULT_DATA_DIR,
        description="Folder of the EMS's files: the embedded SQLite database and, by default, "
        "the run conditions. Relative paths are relative to the working directory.",
    )
    coordination_url: str = Field(
        default_factory=_embedded_url,
        description="SQLAlchemy URL of the coordination database (read only), e.g. "
        "postgresql://ems:PASSWORD@host/elfe?options=-c%20search_path%3Dschema,public. "
        "Default: sqlite:///DATA_DIR/ems.sqlite.",
    )
    store_url: str = Field(
        default_factory=_embedded_url,
        description="SQLAlchemy URL of the EMS's internal store (forecasts, weather, learned "
        "cycles, measurements, thermal models, run log). Default: sqlite:///DATA_DIR/ems.sqlite.",
    )
    output_url: str = Field(
        default_factory=_embedded_url,
        description="SQLAlchemy URL of the output database that the control daemon reads "
        "(result, curves, run info). Default: sqlite:///DATA_DIR/ems.sqlite.",
    )
    timezone: str = Field(
        "Europe/Paris",
        description="IANA time zone of the users' hours of day (programmes, off-peak "
        "windows); daylight saving time is applied.",
    )
    planning_method: str = Field(
        "elfe-ems",
        min_length=1,
        max_length=64,
        description="Name written with every published plan row; a round replaces only the "
        "rows of its own method, so several EMS can publish side by side.",
    )
    time_limit_s: float = Field(
        60.0, gt=0, description="Solver time limit per round [s]; the best plan found is used."
    )
    gap: float = Field(
        1e-4, ge=0, le=1, description="Relative MIP gap at which the solver stops [-]."
    )
    objective: Literal["import", "price"] = Field(
        "import",
        description="What the planner minimises first: the imported energy (import), or its "
        "cost at the tariff's price of each quarter hour (price).",
    )
    tariff_peak_price: float = Field(
        0.2700,
        ge=0,
        description="Price of a kWh imported outside the off-peak windows, with "
        "objective = price (any currency, e.g. EUR/kWh).",
    )
    tariff_off_peak_price: float = Field(
        0.2068,
        ge=0,
        description="Price of a kWh imported in an off-peak window (objective = price).",
    )
    tariff_off_peak_windows: list[str] = Field(
        ["22:00-06:00"],
        description="Off-peak windows in local time, HH:MM-HH:MM; a window that ends before "
        "it starts crosses midnight. A quarter hour is off-peak when it begins in one.",
    )
    peak_tolerance: Annotated[float, Field(ge=0)] | Literal["off"] = Field(
        0.001,
        description="After the primary objective, the planner lowers the largest quarter-hour "
        "import while the objective stays within this share of its best [-]; 0 or off: no "
        "peak stage.",
    )
    run_conditions_dir: Path = Field(
        default_factory=lambda data: _data_dir(data) / "run-conditions",
        description="Folder where each round saves its scenario file, for replays. "
        "Default: DATA_DIR/run-conditions.",
    )

    # --- Zabbix (measurements) ---------------------------------------------------------
    zabbix_url: str | None = Field(
        None,
        description="URL of the Zabbix frontend (or its api_jsonrpc.php), e.g. "
        "https://zabbix.example.org/. Needed by every job that reads measurements.",
    )
    zabbix_token: SecretStr | None = Field(
        None, description="Zabbix API token (preferred over user and password); a secret."
    )
    zabbix_user: str | None = Field(None, description="Zabbix user, when no token is set.")
    zabbix_password: SecretStr | None = Field(
        None, description="Password of zabbix_user; a secret."
    )
    zabbix_verify_tls: bool = Field(
        True, description="Check the Zabbix server's TLS certificate (keep on in production)."
    )
    zabbix_timeout_s: float = Field(30.0, gt=0, description="Timeout of one Zabbix API call [s].")
    zabbix_retries: int = Field(
        3, ge=0, le=10, description="Retries of a failed Zabbix call, with exponential backoff."
    )
    balance_item_id: int | None = Field(
        None,
        description="Zabbix item id of the territory balance (production - consumption, W). "
        "When unset, the item is found by balance_item_name.",
    )
    balance_item_name: str = Field(
        "Equilibre General P=C bis",
        min_length=1,
        description="Name of the Zabbix balance item, used when balance_item_id is unset.",
    )
    forecaster: Literal["persistence", "weather-profile"] = Field(
        "persistence",
        description="Balance forecast the round plans with: persistence, or weather-profile "
        "(PV from the weather forecast's sunshine plus the load learned by day type and "
        "quarter hour; the power-prediction job issues it once 7 days of balance history and "
        "the sunshine forecast are in the store). Steps it does not cover are taken from the "
        "other, with a warning.",
    )
    stale_balance_s: int = Field(
        3600,
        gt=0,
        description="A round's balance measurements (the data behind the forecast) older than "
        "this are stale [s]: the round says so, doctor fails.",
    )
    stale_forecast_s: int = Field(
        1800, gt=0, description="A forecast issued longer ago than this is stale [s]."
    )
    stale_weather_s: int = Field(
        10_800, gt=0, description="A weather forecast fetched longer ago than this is stale [s]."
    )
    stale_room_temperature_s: int = Field(
        1800, gt=0, description="A room temperature older than this is stale [s]."
    )
    stale_water_heater_energy_s: int = Field(
        108_000, gt=0, description="A tank's measured 24 h energy older than this is stale [s]."
    )

    measurements_url: str | None = Field(
        None,
        description="SQLAlchemy URL of recorded measurements read instead of Zabbix (written "
        "by `ems demo` and the simulations). Unset in production: Zabbix is read.",
    )

    # --- Weather -----------------------------------------------------------------------
    weather_providers: list[Literal["meteo-concept", "open-meteo"]] = Field(
        ["meteo-concept", "open-meteo"],
        min_length=1,
        description="Weather providers in order of preference: the first that answers is "
        "stored. meteo-concept needs meteo_concept_token; open-meteo needs no key.",
    )
    meteo_concept_token: SecretStr | None = Field(
        None, description="Météo-Concept API token; a secret. Without it the provider is skipped."
    )
    meteo_concept_insee: str | None = Field(
        "35236",
        description="INSEE code of the forecast town (35236 = Redon); when empty, latitude "
        "and longitude are used.",
    )
    latitude_deg: float = Field(47.65, ge=-90, le=90, description="Site latitude [°N].")
    longitude_deg: float = Field(-2.08, ge=-180, le=180, description="Site longitude [°E].")
    meteo_concept_url: str = Field(
        "https://api.meteo-concept.com/api", description="Base URL of the Météo-Concept API."
    )
    open_meteo_url: str = Field(
        "https://api.open-meteo.com/v1", description="Base URL of the Open-Meteo API."
    )
    http_timeout_s: float = Field(20.0, gt=0, description="Timeout of one weather request [s].")

    # --- Dashboard -------------------------------------------------------------------
    web_host: str = Field(
        "127.0.0.1",
        min_length=1,
        description="Address `ems web` listens on. Bound elsewhere than the loopback, it "
        "requires web_token.",
    )
    web_port: int = Field(8080, ge=1, le=65535, description="Port `ems web` listens on.")
    web_token: SecretStr | None = Field(
        None,
        description="Access token of the dashboard and API when not bound to the loopback "
        "(requests send `Authorization: Bearer TOKEN`); a secret.",
    )

    # --- Retention (housekeeping) --------------------------------------------------------
    forecast_retention_days: float = Field(
        30.0,
        gt=0,
        description="Balance forecasts, measured balance and the piloted devices' planned power "
        "per step kept [days] (the weather-profile forecast learns from 28 days; the last 3 days "
        "of planned power are always kept).",
    )
    weather_retention_days: float = Field(
        30.0, gt=0, description="Weather fetch history kept [days]."
    )
    measurement_retention_days: float = Field(
        30.0,
        gt=0,
        description="Room temperatures and water-heater energies kept [days] (the latest of "
        "each item is always kept).",
    )
    cycle_retention_days: float = Field(
        90.0, gt=0, description="Superseded learned cycles kept [days] (the current one stays)."
    )
    plan_retention_days: float = Field(
        30.0,
        gt=0,
        description="Published plan rows and run log kept [days] (never the last 3 days, "
        "which rounds read).",
    )
    run_conditions_retention_days: float = Field(
        14.0, gt=0, description="Saved scenario and plan files of rounds kept [days]."
    )

    @field_validator("tariff_off_peak_windows")
    @classmethod
    def _off_peak_windows(cls, windows: list[str]) -> list[str]:
        for window in windows:
            parse_window(window)
        return windows

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {zone!r}") from None
        return zone

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        """The fields, with database URLs masked: a logged ``Settings`` shows no password."""
        for name, value in super().__repr_args__():
            yield name, mask_url(value) if name in _URL_FIELDS else value

    @property
    def zone(self) -> ZoneInfo:
        """The users' time zone."""
        return ZoneInfo(self.timezone)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],  # noqa: ARG003 (imposed signature)
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,  # noqa: ARG003
        file_secret_settings: PydanticBaseSettingsSource,  # noqa: ARG003
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The environment first, then the keyword arguments (the TOML file's values, passed
        by :func:`load_settings`); no ``.env`` file, no secrets folder."""
        return env_settings, init_settings


def load_settings(config_file: Path | None = None) -> Settings:
    """The settings from the environment and the TOML file ``config_file`` (by default the
    file named by ``EMS_CONFIG``, if any).

    Raises :class:`ConfigError` when the file is missing or unreadable, or a value is invalid;
    the message names the key but never echoes values (they may hold passwords).
    """
    path = config_file or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    values: dict[str, Any] = {}
    if path is not None:
        try:
            with path.open("rb") as file:
                values = tomllib.load(file)
        except OSError as error:
            raise ConfigError(f"{path}: cannot be read ({error.strerror})") from None
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: not valid TOML ({error})") from None
        private = sorted(k for k in values if k.startswith("_"))  # pydantic-settings options
        if private:
            raise ConfigError(f"{path}: unknown keys {', '.join(private)}")
    try:
        return Settings(**values)
    except ValidationError as error:
        problems = "\n".join(
            f"  {'.'.join(map(str, e['loc']))}: {e['msg']}"
            for e in error.errors()
            if e["type"] != "default_factory_not_called"  # follows from another error
        )
        raise ConfigError(
            f"invalid configuration{f' ({path})' if path else ''}:\n{problems}"
        ) from None


def mask_url(url: str) -> str:
    """``url`` with its password (in the user part or a ``password`` parameter) shown as
    ``***``; a URL that cannot be parsed is not shown at all."""
    # here, not at the top: SQLAlchemy would slow down the start of every command
    from sqlalchemy import make_url  # noqa: PLC0415
    from sqlalchemy.exc import ArgumentError  # noqa: PLC0415

    try:
        parsed = make_url(url)
    except ArgumentError:
        return "<unparseable database URL>"
    query = {k: MASK if k.lower() == "password" else v for k, v in parsed.query.items()}
    return parsed.set(query=query).render_as_string(hide_password=True)


def redact(message: str, *urls: str) -> str:
    """``message`` with the passwords of ``urls`` (plain, URL-encoded or JSON-escaped)
    replaced by ``***``."""
    from sqlalchemy import make_url  # noqa: PLC0415
    from sqlalchemy.exc import ArgumentError  # noqa: PLC0415

    for url in urls:
        message = message.replace(url, mask_url(url))
        try:
            parsed = make_url(url)
        except ArgumentError:
            continue
        passwords = [parsed.password, parsed.query.get("password")]
        for password in (p for p in passwords if isinstance(p, str) and p):
            for form in _forms(password):
                message = message.replace(form, MASK)
    return message


def without_secrets(text: str, settings: Settings) -> str:
    """``text`` with the database passwords and every secret setting masked."""
    text = redact(text, settings.coordination_url, settings.store_url, settings.output_url)
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr) and value.get_secret_value():
            for form in _forms(value.get_secret_value()):
                text = text.replace(form, MASK)
    return text


def _forms(secret: str) -> set[str]:
    """``secret`` as it may be shown: plain, URL-encoded, in a JSON string."""
    return {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}

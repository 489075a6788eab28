"""systemd units that run the EMS's jobs (one oneshot service and one timer per job) and its
dashboard (one long-running service, :data:`WEB_UNIT`).

Each timer starts its service at the job's schedule (``OnCalendar=`` in the configured time
zone, to the second); the service runs ``ems job NAME`` as a dedicated unprivileged user, in a
sandbox that may write only to the working directory and the EMS's data folders, and is
stopped after the job's timeout. systemd never starts a service that is still running, so a
job never overlaps itself, and each run is a process of its own, as with ``ems serve``.

Tokens and passwords go in an environment file beside the configuration (``EMS_…``
variables, see :mod:`elfe_ems.config`), never into a unit: systemd reads it (as root) before
each job starts. It and the configuration are root's, readable by the user's group and by
no one else (:data:`CONFIG_FILE_MODE`, in a folder of :data:`CONFIG_FOLDER_MODE`), so that
a command run by hand as the user (``ems doctor``) reads them too, and the user cannot
change them; the data folders are the user's alone (:data:`DATA_FOLDER_MODE`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from elfe_ems.config import Settings
from elfe_ems.jobs.registry import JOBS, Job, Schedule

PREFIX = "elfe-ems-"
WEB_UNIT = f"{PREFIX}web.service"
DEFAULT_USER = "ems"
DEFAULT_CONFIG = Path("/etc/elfe-ems/config.toml")
DEFAULT_WORKING_DIRECTORY = Path("/var/lib/elfe-ems")
HOME_DIRS = (Path("/home"), Path("/root"), Path("/run/user"))
"""Hidden from the jobs by ``ProtectHome=yes``."""
USER_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
UNSAFE_PATH = re.compile(r"[\s\"'\\$;]")  # would need quoting or expand in a unit's value
_URL_SETTINGS = ("coordination_url", "store_url", "output_url")

CONFIG_FOLDER_MODE = 0o750
"""The configuration folder: owner root, group the user's (``ems install``, the hints)."""
CONFIG_FILE_MODE = 0o640
"""``config.toml`` and ``secrets.env``: owner root, group the user's, none for others."""
DATA_FOLDER_MODE = 0o700
"""The working directory and data folders: the user's alone."""

HARDENING = """\
NoNewPrivileges=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
PrivateMounts=yes
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM
CapabilityBoundingSet=
UMask=0077
"""
"""The sandbox of every job (no MemoryDenyWriteExecute: ctypes callbacks need it off).
``systemd-analyze security`` (252) rates each service 1.5 "OK"
(``tests/jobs/test_systemd.py``)."""


class SystemdError(ValueError):
    """Units that cannot be made or written; the message says why."""


def default_ems() -> Path:
    """The ``ems`` executable of this Python environment."""
    return Path(sys.executable).with_name("ems")


@dataclass(frozen=True)
class Installation:
    """Where and as whom the jobs run: the user (and its group), the configuration file, the
    ``ems`` executable and the working directory (relative data folders are in it)."""

    user: str = DEFAULT_USER
    config: Path = DEFAULT_CONFIG
    ems: Path = field(default_factory=default_ems)
    working_directory: Path = DEFAULT_WORKING_DIRECTORY

    def __post_init__(self) -> None:
        if not USER_NAME.fullmatch(self.user):
            raise SystemdError(f"user {self.user!r}: not a valid system user name")
        for name in ("config", "ems", "working_directory"):
            _check_path(name.replace("_", "-"), getattr(self, name))

    @property
    def secrets(self) -> Path:
        """The environment file of tokens and passwords, beside the configuration."""
        return self.config.parent / "secrets.env"


def _check_path(what: str, path: Path) -> None:
    if not path.is_absolute():
        raise SystemdError(f"{what} {path}: must be an absolute path")
    if UNSAFE_PATH.search(str(path)):
        raise SystemdError(f"{what} {path}: spaces, quotes, '\\', '$' and ';' are not supported")


def _value(text: object) -> str:
    """``text`` as a unit file value: ``%`` would start a specifier."""
    return str(text).replace("%", "%%")


def unit_names(job: Job) -> tuple[str, str]:
    """The service and timer file names of ``job``."""
    return f"{PREFIX}{job.name}.service", f"{PREFIX}{job.name}.timer"


def writable_paths(installation: Installation, settings: Settings) -> list[Path]:
    """The folders the jobs write to: the working directory, and the data folders and SQLite
    databases' folders that are outside it (relative ones are inside)."""
    # here, not at the top: `ems` reads this module's defaults at every start, and SQLAlchemy
    # would slow it down
    from sqlalchemy import make_url  # noqa: PLC0415
    from sqlalchemy.exc import ArgumentError  # noqa: PLC0415

    inside = installation.working_directory
    folders = [settings.data_dir, settings.run_conditions_dir]
    for name in _URL_SETTINGS:
        try:
            url = make_url(getattr(settings, name))
        except ArgumentError:
            continue  # the jobs report it
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            folders.append(Path(url.database).parent)
    paths = [inside]
    for folder in folders:
        if folder.is_absolute() and not folder.is_relative_to(inside) and folder not in paths:
            _check_path(f"data folder {folder} (from the settings)", folder)
            paths.append(folder)
    return paths


def _interpreter(executable: Path) -> Path | None:
    """The interpreter named by ``executable``'s ``#!`` line, symbolic links resolved (a
    virtual environment's Python may live in a home directory)."""
    try:
        with executable.open("rb") as file:
            first = file.readline(4096)
    except OSError:
        return None  # made for another machine
    if not first.startswith(b"#!"):
        return None
    words = first[2:].decode(errors="replace").split()
    return Path(words[0]).resolve() if words else None


def _protect_home(installation: Installation, writable: Sequence[Path]) -> str:
    """``yes``, or ``read-only`` when a path the jobs need lies in a home directory."""
    needed = [installation.ems, installation.ems.resolve(), installation.config, *writable]
    interpreter = _interpreter(installation.ems)
    if interpreter is not None:
        needed.append(interpreter)
    in_home = any(p.is_relative_to(home) for p in needed for home in HOME_DIRS)
    return "read-only" if in_home else "yes"


def _service_section(
    installation: Installation, settings: Settings, command: str, name: str
) -> str:
    """The ``[Service]`` lines every unit shares after its type: the user, ``ems COMMAND``,
    the configuration and secrets, the working directory and the sandbox."""
    writable = writable_paths(installation, settings)
    config = _value(installation.config)
    return f"""\
User={installation.user}
Group={installation.user}
ExecStart={_value(installation.ems)} {command} --config {config}
Environment=EMS_CONFIG={config}
# tokens and passwords as EMS_... variables; read by systemd (as root) before each start
EnvironmentFile=-{_value(installation.secrets)}
WorkingDirectory={_value(installation.working_directory)}
SyslogIdentifier={PREFIX}{name}
ProtectSystem=strict
ReadWritePaths={" ".join(_value(p) for p in writable)}
ProtectHome={_protect_home(installation, writable)}
{HARDENING}"""


def service_unit(job: Job, installation: Installation, settings: Settings) -> str:
    """The oneshot service that runs ``job`` once."""
    return f"""\
# Made by `ems systemd`: job {job.name} of the ELFE EMS, started by {unit_names(job)[1]}.
[Unit]
Description=ELFE EMS job {job.name}: {_value(job.summary)}
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
TimeoutStartSec={job.timeout_s}
{_service_section(installation, settings, f"job {job.name}", job.name)}"""


def web_unit(installation: Installation, settings: Settings) -> str:
    """The long-running service of the dashboard and its API (``ems web``), restarted when it
    fails; it reads the same store, with the same sandbox as the jobs (SQLite in WAL mode
    writes its shared-memory file even to read)."""
    return f"""\
# Made by `ems systemd`: the dashboard and JSON API of the ELFE EMS (read-only).
[Unit]
Description=ELFE EMS dashboard and API (ems web, {_value(settings.web_host)}:{settings.web_port})
Wants=network-online.target
After=network-online.target

[Service]
Type=exec
Restart=on-failure
RestartSec=5
{_service_section(installation, settings, "web", "web")}
[Install]
WantedBy=multi-user.target
"""


def _whole_hour_offsets(timezone: str) -> bool:
    """Whether ``timezone`` is a whole number of hours from UTC, in winter and in summer."""
    zone, year = ZoneInfo(timezone), datetime.now(UTC).year
    offsets = (datetime(year, month, 1, tzinfo=zone).utcoffset() for month in (1, 7))
    return all(o is not None and o % timedelta(hours=1) == timedelta(0) for o in offsets)


def on_calendars(schedule: Schedule, timezone: str) -> list[str]:
    """The timer's ``OnCalendar=`` expressions: the schedule in ``timezone``, and for an
    hourly schedule in a zone a whole number of hours from UTC, the same in UTC. They give
    the same times, except that systemd (252) skips the local hour that repeats when the
    clocks go back (in Paris, 02:00-03:00 CET on the last Sunday of October): the UTC one
    keeps the jobs running in it (a timer elapses at each time of either expression)."""
    expressions = [schedule.on_calendar(timezone)]
    if schedule.hour == "*" and timezone != "UTC" and _whole_hour_offsets(timezone):
        expressions.append(schedule.on_calendar("UTC"))
    return expressions


def timer_unit(job: Job, timezone: str) -> str:
    """The timer that starts ``job``'s service at its schedule in ``timezone``."""
    expressions = on_calendars(job.schedule, timezone)
    on_calendar = "\n".join(f"OnCalendar={e}" for e in expressions)
    if len(expressions) > 1:
        on_calendar = (
            "# UTC too: systemd skips the local hour repeated when the clocks go back\n"
            + on_calendar
        )
    return f"""\
# Made by `ems systemd`: when job {job.name} of the ELFE EMS runs.
[Unit]
Description=ELFE EMS job {job.name} at {expressions[0]}

[Timer]
{on_calendar}
AccuracySec=1s

[Install]
WantedBy=timers.target
"""


def units(
    installation: Installation, settings: Settings, jobs: Sequence[Job] = JOBS
) -> dict[str, str]:
    """Every unit file, by file name: a service and a timer per job, and the web service."""
    files: dict[str, str] = {}
    for job in jobs:
        service, timer = unit_names(job)
        files[service] = service_unit(job, installation, settings)
        files[timer] = timer_unit(job, settings.timezone)
    files[WEB_UNIT] = web_unit(installation, settings)
    return files


def enabled_units(jobs: Sequence[Job] = JOBS) -> list[str]:
    """The units to enable and start: every job's timer (which starts its service) and the
    web service."""
    return [unit_names(job)[1] for job in jobs] + [WEB_UNIT]


def install(files: Mapping[str, str], directory: Path, *, force: bool = False) -> list[str]:
    """Write ``files`` into ``directory``; the names of those written (identical files are
    left alone). Files that exist with other contents are overwritten only with ``force``:
    otherwise :class:`SystemdError` names them, and nothing is written."""
    existing = {name: directory / name for name in files if (directory / name).exists()}
    changed = [n for n, p in existing.items() if p.read_bytes() != files[n].encode()]
    if changed and not force:
        raise SystemdError(
            f"{directory}: {', '.join(changed)} differ from the units made now; "
            "not overwritten (use --force)"
        )
    written = []
    for name, text in files.items():
        if name in existing and name not in changed:
            continue
        path = directory / name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o644)
        written.append(name)
    return written


def next_steps(installation: Installation, jobs: Sequence[Job] = JOBS) -> list[str]:
    """The commands (as root) that make the installed units run, with the modes that
    ``ems install`` gives (see the module docstring)."""
    user, home = installation.user, installation.working_directory
    config, secrets = installation.config, installation.secrets
    return [
        f"useradd --system --user-group --no-create-home --home-dir {home} "
        f"--shell /usr/sbin/nologin {user}",
        f"install -d -o {user} -g {user} -m {DATA_FOLDER_MODE:04o} {home}",
        f"touch {secrets}  # the EMS_... secrets (tokens, database URLs)",
        f"chown root:{user} {config.parent} {config} {secrets}",
        f"chmod {CONFIG_FOLDER_MODE:04o} {config.parent} && "
        f"chmod {CONFIG_FILE_MODE:04o} {config} {secrets}",
        "systemctl daemon-reload",
        f"systemctl enable --now {' '.join(enabled_units(jobs))}",
    ]

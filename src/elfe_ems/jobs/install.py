"""``ems install``: a server installation, step by step and idempotent, run as root.

The steps: the unprivileged system user; its folders; the configuration (no secret) and the
secrets file; the PostgreSQL roles (:mod:`elfe_ems.jobs.database_roles`); the migrations, run
as the store owner; the systemd units (:mod:`elfe_ems.jobs.systemd`); the first run of every
job, as the user. Each step says what it did, or with ``dry_run`` what it would do. Files that
exist are kept unless ``force``.

Modes, those of :mod:`elfe_ems.jobs.systemd` (``DATA_FOLDER_MODE``, ``CONFIG_FOLDER_MODE``,
``CONFIG_FILE_MODE``): the folders of data are the user's alone; the configuration folder and
its two files are root's, readable by the user's group: the user (and a command run by hand
as it, e.g. ``ems doctor``) reads them, and cannot change its own configuration or secrets.
The group is the user's own, with no other member.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shlex
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from elfe_ems.jobs import database_roles, systemd
from elfe_ems.jobs.database_layout import DatabaseLayout
from elfe_ems.jobs.registry import JOBS, Job

Say = Callable[[str], None]

FIRST_JOBS: tuple[Job, ...] = (
    *(job for job in JOBS if job.name not in ("round", "housekeeping")),
    *(job for job in JOBS if job.name == "round"),
)
"""The first run: every input of the round stored first (nothing to clean up yet)."""

SECRET_VARIABLES = ("EMS_ZABBIX_TOKEN", "EMS_ZABBIX_PASSWORD", "EMS_METEO_CONCEPT_TOKEN")
"""Secrets copied from ``ems install``'s environment into the secrets file when set."""
SETTING_KEYS = ("timezone", "zabbix_url", "measurements_url")
"""The settings ``ems install`` writes into the configuration file besides the folders."""


SYSTEM_FOLDER_MODE = 0o755
"""The folders of the system ``ems install`` makes when missing: the units', ``etc/``, …"""


class InstallError(RuntimeError):
    """A step that failed; the message says which and why, without a secret."""


@dataclass(frozen=True)
class InstallPlan:
    """What to install where. ``root`` prefixes every path (``/`` on a server; a test's
    folder in tests); ``settings`` are the configuration's keys of :data:`SETTING_KEYS`."""

    admin_url: str | None
    """PostgreSQL URL of an admin (no password in it: ``PGPASSWORD``), None: roles and
    databases are left to a DBA (the SQL is printed)."""
    database_host: str = "127.0.0.1"
    database_port: int = 5432
    layout: DatabaseLayout = field(default_factory=DatabaseLayout)
    user: str = systemd.DEFAULT_USER
    root: Path = Path("/")
    ems: Path = field(default_factory=systemd.default_ems)
    settings: Mapping[str, str] = field(default_factory=dict)
    force: bool = False
    dry_run: bool = False
    start: bool = True

    def under_root(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    @property
    def config_dir(self) -> Path:
        return self.under_root("/etc/elfe-ems")

    @property
    def data_dir(self) -> Path:
        return self.under_root("/var/lib/elfe-ems")

    @property
    def unit_dir(self) -> Path:
        return self.under_root("/etc/systemd/system")

    @property
    def installation(self) -> systemd.Installation:
        return systemd.Installation(
            self.user, self.config_dir / "config.toml", self.ems, self.data_dir
        )


def config_text(plan: InstallPlan) -> str:
    """The configuration file: folders and the given settings, no secret."""
    unknown = set(plan.settings) - set(SETTING_KEYS)
    if unknown:
        raise InstallError(f"settings {', '.join(sorted(unknown))}: not set by ems install")
    values = {
        "data_dir": str(plan.data_dir),
        "run_conditions_dir": str(plan.data_dir / "run-conditions"),
        **plan.settings,
    }
    # a JSON string is a TOML basic string
    lines = [f"{key} = {json.dumps(value)}" for key, value in values.items()]
    return (
        "# Made by `ems install`; secrets are in secrets.env beside it.\n" + "\n".join(lines) + "\n"
    )


def _url(plan: InstallPlan, role: str, password: str, database: str, schema: str | None) -> str:
    from sqlalchemy import URL  # noqa: PLC0415

    url = URL.create(
        "postgresql",
        role,
        password,
        plan.database_host,
        plan.database_port,
        database,
        {"options": f"-c search_path={schema}"} if schema else {},
    )
    return url.render_as_string(hide_password=False)


def database_urls(plan: InstallPlan, passwords: Mapping[str, str]) -> dict[str, str]:
    """The three URLs the jobs use (``EMS_…`` variables), with the roles' passwords."""
    layout = plan.layout
    return {
        "EMS_STORE_URL": _url(
            plan, layout.owner_role, passwords[layout.owner_role], layout.store_database, None
        ),
        "EMS_OUTPUT_URL": _url(
            plan,
            layout.output_role,
            passwords[layout.output_role],
            layout.store_database,
            layout.output_schema,
        ),
        "EMS_COORDINATION_URL": _url(
            plan,
            layout.reader_role,
            passwords[layout.reader_role],
            layout.coordination_database,
            f"{layout.coordination_schema},public",
        ),
    }


def read_environment_file(path: Path) -> dict[str, str]:
    """The ``NAME=VALUE`` lines of an environment file (as systemd reads ours)."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.strip().partition("=")
        if sep and not name.startswith("#"):
            values[name] = value
    return values


def _passwords_of(environment: Mapping[str, str], layout: DatabaseLayout) -> dict[str, str]:
    """The roles' passwords in an existing secrets file's URLs (kept at a new install)."""
    from sqlalchemy import make_url  # noqa: PLC0415

    passwords = {}
    for name in ("EMS_STORE_URL", "EMS_OUTPUT_URL", "EMS_COORDINATION_URL"):
        if name in environment:
            url = make_url(environment[name])
            if url.username and url.password:
                passwords[url.username] = str(url.password)
    roles = (layout.owner_role, layout.output_role, layout.reader_role)
    return {role: passwords.get(role) or secrets.token_urlsafe(24) for role in roles}


class Installer:
    """The steps of :func:`install`, sharing the plan, the output and the secrets."""

    def __init__(self, plan: InstallPlan, say: Say) -> None:
        self.plan, self.say = plan, say
        self.secrets_file = plan.config_dir / "secrets.env"
        existing = (
            read_environment_file(self.secrets_file)
            if self.secrets_file.exists() and not plan.force
            else {}
        )
        self.passwords = _passwords_of(existing, plan.layout)
        self.environment = {
            **{n: os.environ[n] for n in SECRET_VARIABLES if os.environ.get(n)},
            **existing,
            **database_urls(plan, self.passwords),
        }

    def user(self) -> None:
        plan = self.plan
        try:
            pwd.getpwnam(plan.user)
            self.say(f"user {plan.user}: exists")
            return
        except KeyError:
            pass
        command = [
            "useradd", "--system", "--user-group", "--no-create-home",
            "--home-dir", str(plan.data_dir), "--shell", "/usr/sbin/nologin", plan.user,
        ]  # fmt: skip
        self.say(f"user {plan.user}: {' '.join(command)}")
        if not plan.dry_run:
            _run(command)

    def folders(self) -> None:
        plan = self.plan
        user = plan.user
        for folder, owner, group, mode in (
            (plan.config_dir, "root", user, systemd.CONFIG_FOLDER_MODE),
            (plan.data_dir, user, user, systemd.DATA_FOLDER_MODE),
            (plan.data_dir / "run-conditions", user, user, systemd.DATA_FOLDER_MODE),
            (plan.unit_dir, "root", "root", SYSTEM_FOLDER_MODE),
        ):
            self.say(f"folder {folder}: owner {owner}, group {group}, mode {mode:04o}")
            if not plan.dry_run:
                missing = [p for p in folder.parents if not p.exists()]
                folder.mkdir(parents=True, exist_ok=True)
                for parent in missing:  # etc/, var/lib/: as a system's, not as ems's umask
                    parent.chmod(SYSTEM_FOLDER_MODE)
                shutil.chown(folder, owner, group)
                folder.chmod(mode)

    def files(self) -> None:
        body = "".join(f"{name}={value}\n" for name, value in self.environment.items())
        self._file(self.plan.config_dir / "config.toml", config_text(self.plan), "no secret")
        self._file(self.secrets_file, body, f"{len(self.environment)} secrets, not shown")

    def _file(self, path: Path, text: str, what: str) -> None:
        """Write ``path`` (or keep it), and give it its owner and mode in either case: a file
        left by hand readable by others is closed."""
        plan = self.plan
        mode = systemd.CONFIG_FILE_MODE
        if path.exists() and not plan.force:
            same = path.read_text(encoding="utf-8") == text
            self.say(
                f"file {path}: kept ({'unchanged' if same else 'differs; --force replaces it'}), "
                f"owner root, group {plan.user}, mode {mode:04o}"
            )
        else:
            self.say(f"file {path} ({what}): owner root, group {plan.user}, mode {mode:04o}")
            if not plan.dry_run:
                # created with its mode: never readable by others, not even for a moment
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
                with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                    file.write(text)
        if not plan.dry_run:
            shutil.chown(path, "root", plan.user)
            path.chmod(mode)

    def roles(self) -> None:
        plan = self.plan
        if plan.admin_url is None or plan.dry_run:
            why = "dry run" if plan.dry_run else "no --admin-url: for a DBA to run, then again"
            self.say(f"database roles ({why}), with psql:")
            self.say(database_roles.script(plan.layout))
            return
        from elfe_ems.config import redact  # noqa: PLC0415

        try:
            done = database_roles.apply(plan.admin_url, plan.layout, self.passwords)
        except Exception as error:  # psycopg's errors: the reason, without a password
            raise InstallError(f"database roles: {redact(str(error), plan.admin_url)}") from None
        for line in done:
            self.say(f"database roles: {line}")

    def migrations(self) -> None:
        """Both databases' migrations, as the owner (the output writer creates no table)."""
        plan, layout = self.plan, self.plan.layout
        urls = {
            "store": self.environment["EMS_STORE_URL"],
            "output": _url(
                plan,
                layout.owner_role,
                self.passwords[layout.owner_role],
                layout.store_database,
                layout.output_schema,
            ),
        }
        if plan.dry_run:
            self.say("migrations: store and output, upgraded to the latest revision as the owner")
            return
        from elfe_ems.db.engine import engine_for, error_reason  # noqa: PLC0415
        from elfe_ems.store import migrate  # noqa: PLC0415
        from elfe_ems.store.migrate import DATABASES  # noqa: PLC0415

        for database in DATABASES:
            try:
                with engine_for(urls[database]) as engine:
                    before, after = migrate.upgrade(engine, database)
            except Exception as error:  # SQLAlchemy's and Alembic's errors
                raise InstallError(f"migrations of the {database}: {error_reason(error)}") from None
            change = "up to date" if before == after else f"upgraded from {before or 'empty'}"
            self.say(f"migrations: {database} at {after}, {change}")

    def units(self) -> None:
        from elfe_ems.config import load_settings  # noqa: PLC0415

        plan = self.plan
        installation = plan.installation
        config = installation.config
        settings = load_settings(config if config.exists() else None)
        files = systemd.units(installation, settings)
        if plan.dry_run:
            self.say(f"units: {len(files)} files into {plan.unit_dir}")
            return
        written = systemd.install(files, plan.unit_dir, force=plan.force)
        self.say(f"units: {len(written)} written, {len(files) - len(written)} unchanged")
        analyze = shutil.which("systemd-analyze")
        if analyze is None:
            self.say("units: not verified (no systemd-analyze)")
        else:
            _run([analyze, "verify", *(str(plan.unit_dir / n) for n in files)])
            self.say("units: systemd-analyze verify passed")
        if self._systemd_starts():
            enabled = systemd.enabled_units()
            for command in (["systemctl", "daemon-reload"], ["systemctl", "enable", *enabled]):
                self.say(" ".join(command))
                _run(command)
        else:
            self.say("units: not enabled (--no-start, or systemd is not this machine's init)")

    def _systemd_starts(self) -> bool:
        return self.plan.start and not self.plan.dry_run and _systemd_is_init()

    def start(self) -> None:
        """Start the timers and the web service, after the first runs (a timer started
        before them could run a job beside its first run)."""
        if self._systemd_starts():
            command = ["systemctl", "start", *systemd.enabled_units()]
            self.say(" ".join(command))
            _run(command)

    def first_jobs(self) -> list[str]:
        """Run every job once, in order, as the user; the names of those that failed (a
        source away fails its job only; the round plans on what the store has)."""
        plan = self.plan
        failed = []
        for job in FIRST_JOBS:
            command = as_user(plan, "job", job.name)
            if plan.dry_run or not plan.start:
                self.say(f"first run: {shlex.join(command)}")
                continue
            result = subprocess.run(
                command, cwd=plan.data_dir, capture_output=True, text=True, check=False
            )
            verdict = "ok" if result.returncode == 0 else f"failed (exit {result.returncode})"
            self.say(f"first run: job {job.name}: {verdict}")
            if result.returncode:
                failed.append(job.name)
                for line in result.stderr.strip().splitlines()[-3:]:
                    self.say(f"  {line}")
        return failed


def as_user(plan: InstallPlan, *arguments: str) -> list[str]:
    """``ems ARGUMENTS`` run as the installation's user, with its configuration and its
    secrets read from the secrets file by the user itself (never in an argument)."""
    installation = plan.installation
    # the paths are checked by systemd.Installation: nothing in them needs quoting
    script = (
        f"set -a; . {installation.secrets}; "
        f"exec {installation.ems} {shlex.join(arguments)} --config {installation.config}"
    )
    return ["runuser", "-u", plan.user, "--", "sh", "-c", script]


def _systemd_is_init() -> bool:
    return Path("/run/systemd/system").is_dir()  # as sd_booted(3) tells


def _run(command: Sequence[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode:
        raise InstallError(f"{command[0]} failed: {result.stderr.strip() or result.returncode}")


def install(plan: InstallPlan, say: Say) -> list[str]:
    """Every step in order; the first jobs that failed. :class:`InstallError` stops it."""
    installer = Installer(plan, say)
    installer.user()
    installer.folders()
    installer.files()
    installer.roles()
    installer.migrations()
    installer.units()
    failed = installer.first_jobs()
    installer.start()
    return failed

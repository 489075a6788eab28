"""The command's logging: one event per line on standard error.

Under systemd, whose journal reads standard error (``JOURNAL_STREAM`` names the stream's
device and inode), each line starts with its sd-daemon syslog priority (``<4>`` a warning)
instead of the level's name, so that ``journalctl -p warning`` finds the warnings. A WARNING
line the process has already logged is not logged again: every repeat says nothing new. Once
a command has its settings, no line shows one of their secrets (:func:`hide_secrets`): not
even one that a server's answer quoted.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

from elfe_ems.config import Settings, without_secrets

PLAIN_FORMAT = "%(levelname)s %(name)s: %(message)s"
JOURNAL_FORMAT = "%(name)s: %(message)s"  # the priority prefix says the level

PRIORITIES = ((logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6))
"""sd-daemon priority of the levels from each one up (critical is logged as an error);
below INFO: debug, 7."""
DEBUG_PRIORITY = 7


def priority(level: int) -> int:
    """The syslog priority of a logging level."""
    return next((p for least, p in PRIORITIES if level >= least), DEBUG_PRIORITY)


def on_journal(fd: int = 2) -> bool:
    """Whether ``fd`` is the stream systemd connected to the journal."""
    device, _, inode = os.environ.get("JOURNAL_STREAM", "").partition(":")
    try:
        stat = os.fstat(fd)
        return (int(device), int(inode)) == (stat.st_dev, stat.st_ino)
    except (OSError, ValueError):  # no such stream, or no (valid) JOURNAL_STREAM
        return False


class JournalFormatter(logging.Formatter):
    """Each line of a record (a traceback's too) prefixed with its priority, ``<N>``."""

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines())


class RepeatFilter(logging.Filter):
    """Drops a WARNING line (logger and message) already let through."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[tuple[str, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.WARNING:
            return True
        line = (record.name, record.getMessage())
        if line in self._seen:
            return False
        self._seen.add(line)
        return True


class SecretFilter(logging.Filter):
    """Masks the secrets of the settings in a record's message and traceback."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        shown = without_secrets(message, self.settings)
        if shown != message:
            record.msg, record.args = shown, None
        if record.exc_info and not record.exc_text:
            trace = self._formatter.formatException(record.exc_info)
            record.exc_text = without_secrets(trace, self.settings)
        return True


def hide_secrets(settings: Settings) -> None:
    """From now on, the secrets of ``settings`` are masked in every line the root logger's
    handlers write (the loggers of the libraries too)."""
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, SecretFilter)]:
            handler.removeFilter(old)
        handler.addFilter(SecretFilter(settings))


class StandardErrorHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler on whatever ``sys.stderr`` is when a record is emitted: while the
    progress spinner turns (:func:`elfe_ems.cli.common.progress`), rich stands in for it and
    prints the lines above the spinner instead of across it."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _stream: TextIO) -> None:
        """Ignored: the stream is always the current standard error."""


def configure(level: int) -> None:
    """The root logger's one handler, on standard error, at ``level``."""
    handler = StandardErrorHandler()
    if on_journal():
        handler.setFormatter(JournalFormatter(JOURNAL_FORMAT))
    else:
        handler.setFormatter(logging.Formatter(PLAIN_FORMAT))
    handler.addFilter(RepeatFilter())
    logging.basicConfig(level=level, handlers=[handler], force=True)

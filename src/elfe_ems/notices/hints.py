"""How a hint names an ``ems`` command: the way the user runs it.

Under ``uv run`` (which sets ``UV`` in the environment of what it runs) the command is
``uv run ems …``, as in the README; anywhere else (an installed wheel, systemd) it is
``ems …``. Without dependencies, so that every part of the EMS (the messages of the
databases and of the health checks too) names commands the same way.
"""

from __future__ import annotations

import os


def ems_command(arguments: str) -> str:
    """``ems ARGUMENTS`` as the user runs it: ``uv run ems ARGUMENTS`` under ``uv run``."""
    return f"{'uv run ' if os.environ.get('UV') else ''}ems {arguments}"

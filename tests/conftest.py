"""Shared helpers for the hand-checked tests, handed out by the ``ems`` fixture.

Every test works on a grid of 900 s (quarter-hour) steps starting at ``ROUND_START``, so one
step at 1000 W is 250 Wh. A scenario dict is built with ``ems.scenario(net_load_w, devices)``
(``steps`` is the length of the net load), solved through the public planner with
``ems.plan(raw)``, and written to a file with ``ems.write(path, raw)``. The helpers come
from a fixture rather than an import so that the tests work in any pytest import mode.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from elfe_ems.planner.core import SolveOptions, solve
from elfe_ems.planner.scenario import DevicePlan, Plan, parse_scenario

ROUND_START = 1_700_001_000  # = 1_888_890 * 900: on the 900 s grid
STEP_S = 900


class Helpers:
    """Scenario building, solving and small list helpers (see the module docstring)."""

    round_start = ROUND_START
    step_s = STEP_S
    step_h = STEP_S / 3600  # 0.25 h: a step at 1000 W is 250 Wh

    @staticmethod
    def at(step: int) -> int:
        """Unix time at which ``step`` begins."""
        return ROUND_START + step * STEP_S

    @staticmethod
    def scenario(
        net_load_w: Sequence[float],
        devices: Sequence[dict[str, Any]] = (),
        *,
        round_start: int = ROUND_START,
        outdoor_temp_c: Sequence[float] | None = None,
    ) -> dict[str, Any]:
        """A scenario as decoded JSON, with ``steps = len(net_load_w)``."""
        raw: dict[str, Any] = {
            "format": "elfe-ems.scenario/1",
            "round_start": round_start,
            "step_s": STEP_S,
            "steps": len(net_load_w),
            "net_load_w": list(net_load_w),
            "devices": [dict(d) for d in devices],
        }
        if outdoor_temp_c is not None:
            raw["outdoor_temp_c"] = list(outdoor_temp_c)
        return raw

    @staticmethod
    def plan(raw: dict[str, Any], time_limit_s: float = 20.0) -> Plan:
        """Validate ``raw`` and solve it with the public planner."""
        plan, _stats = solve(parse_scenario(raw), SolveOptions(time_limit_s=time_limit_s))
        return plan

    @staticmethod
    def device(plan: Plan, device_id: int = 1) -> DevicePlan:
        """The plan of the device with this id."""
        (found,) = [d for d in plan.devices if d.id == device_id]
        return found

    @staticmethod
    def write(path: Path, raw: dict[str, Any]) -> Path:
        """Write ``raw`` as JSON (a float NaN is written as the JSON extension ``NaN``)."""
        path.write_text(json.dumps(raw), encoding="utf-8")
        return path

    @staticmethod
    def one_hot(steps: int, *ones: int) -> list[int]:
        """int[steps] with 1 at the given steps, 0 elsewhere."""
        return [1 if k in ones else 0 for k in range(steps)]

    @staticmethod
    def tagged(warnings: Sequence[str], tag: str) -> list[str]:
        """The warnings that begin with ``tag``."""
        return [w for w in warnings if w.startswith(tag)]


@pytest.fixture(autouse=True)
def _not_under_uv_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hints name commands as a plain installation does (``ems …``), whether the suite runs
    under ``uv run`` (which sets ``UV``) or not; the hints' own tests set it."""
    monkeypatch.delenv("UV", raising=False)


@pytest.fixture
def ems() -> Helpers:
    """The shared helpers (see the module docstring)."""
    return Helpers()


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Empty working directory, no ``EMS_…`` variable (they override the settings), root
    logger restored afterwards (``ems`` reconfigures it on the CLI runner's stream, closed
    after the run)."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.upper().startswith("EMS_")]:
        monkeypatch.delenv(name)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)

"""Every device of the coordination database accounted for in a round: planned as asked,
relaxed (a wish that could not be met as it is: which, and how, in its warnings) or left out
(why: not piloted, nothing to plan now, no weather, a bad row, ...).

The counts add up to the devices of ``equipement_pilote_ou_mesure``: the run summary, the run
log (``run_log.devices``), the dashboard and ``ems doctor`` show them by reason, so that no
device is left out silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from elfe_ems.notices.collector import without_values
from elfe_ems.planner.scenario import Plan
from elfe_ems.round.inputs import QUIET_TAGS, BuiltDevices, DeviceRow
from elfe_ems.sources.coordination import MODE_PILOTED, CoordinationRows, DeviceEntry

TAG = re.compile(r"^\[WARN_[A-Z]+\]\s*")


class Outcome(StrEnum):
    """What became of a device in a round."""

    PLANNED = "planned"
    RELAXED = "relaxed"
    LEFT_OUT = "left out"


@dataclass(frozen=True)
class DeviceAccount:
    """One device's outcome. ``reason``: the kind of relaxation or of leaving out, without
    values (devices are counted by it), None when planned as asked; ``detail``: the device's
    own texts; ``problem``: left out for a problem (bad or missing data), not because there
    is nothing to plan."""

    device_id: int
    outcome: Outcome
    reason: str | None = None
    detail: tuple[str, ...] = ()
    problem: bool = False


def reason_of(text: str) -> str:
    """A warning's or issue's kind: without its tag, its values and what was done about it
    (the part after the first ``": "``)."""
    return without_values(TAG.sub("", text).removeprefix("skipped: "))


@dataclass(frozen=True)
class Accounting:
    """Every device of the coordination database, once, with its outcome."""

    devices: tuple[DeviceAccount, ...]

    def of(self, outcome: Outcome) -> list[DeviceAccount]:
        return [d for d in self.devices if d.outcome == outcome]

    def by_reason(self, outcome: Outcome) -> dict[str, list[int]]:
        """Device ids by reason, the most frequent reason first."""
        groups: dict[str, list[int]] = {}
        for device in self.of(outcome):
            groups.setdefault(device.reason or "", []).append(device.device_id)
        return dict(sorted(groups.items(), key=lambda item: (-len(item[1]), item[0])))

    @property
    def problems(self) -> list[DeviceAccount]:
        """The devices left out for a problem."""
        return [d for d in self.of(Outcome.LEFT_OUT) if d.problem]

    def to_json(self) -> dict[str, Any]:
        """The run log's ``devices``: counts, and device ids by reason."""
        return {
            "total": len(self.devices),
            **{outcome.name.lower(): len(self.of(outcome)) for outcome in Outcome},
            "left_out_for_a_problem": len(self.problems),
            "relaxed_by_reason": self.by_reason(Outcome.RELAXED),
            "left_out_by_reason": self.by_reason(Outcome.LEFT_OUT),
            "problem_reasons": sorted({d.reason or "" for d in self.problems}),
        }


def _entries(rows: CoordinationRows) -> Iterable[DeviceEntry]:
    """The devices of the database; without their list, those of the typed rows."""
    if rows.devices:
        return rows.devices
    typed: tuple[DeviceRow, ...] = (
        *rows.machines,
        *rows.water_heaters,
        *rows.evs,
        *rows.thermostatic_heaters,
        *rows.pilot_wire_heaters,
    )
    ids = sorted({r.device_id: r.machine_type for r in typed}.items())
    return [DeviceEntry(device_id, type_id, MODE_PILOTED) for device_id, type_id in ids]


def account(rows: CoordinationRows, built: BuiltDevices, plan: Plan) -> Accounting:
    """Each device of ``rows.devices``: in the plan (planned, relaxed when it has a warning or
    a repaired row, left out when the planner skipped it), left out by the round's rules
    (``built.left_out``), not piloted, or piloted without a row the round could read."""
    planned = {d.id: d for d in plan.devices}
    repaired: dict[int, list[str]] = {}
    for issue in built.issues:
        repaired.setdefault(issue.device_id, []).append(f"{issue.tag} {issue.text}")
    accounts = []
    for entry in _entries(rows):
        device_id = entry.device_id
        if (device := planned.get(device_id)) is not None:
            texts = (*repaired.get(device_id, ()), *device.warnings)
            if device.status == "skipped":
                tag = texts[-1].split(" ", 1)[0] if texts else ""
                accounts.append(
                    DeviceAccount(
                        device_id,
                        Outcome.LEFT_OUT,
                        reason_of(texts[-1]) if texts else "skipped by the planner",
                        texts,
                        problem=tag not in QUIET_TAGS,
                    )
                )
            elif texts:
                accounts.append(
                    DeviceAccount(device_id, Outcome.RELAXED, reason_of(texts[0]), texts)
                )
            else:
                accounts.append(DeviceAccount(device_id, Outcome.PLANNED))
        elif (left := built.left_out.get(device_id)) is not None:
            texts = tuple(repaired.get(device_id, ()))
            accounts.append(
                DeviceAccount(device_id, Outcome.LEFT_OUT, left.reason, texts, left.problem)
            )
        elif entry.mode != MODE_PILOTED:
            mode = "no mode" if entry.mode is None else f"mode {entry.mode}"
            accounts.append(DeviceAccount(device_id, Outcome.LEFT_OUT, f"not piloted ({mode})"))
        else:
            accounts.append(
                DeviceAccount(
                    device_id,
                    Outcome.LEFT_OUT,
                    "piloted, but no row of a piloted device type",
                    problem=True,
                )
            )
    return Accounting(tuple(accounts))

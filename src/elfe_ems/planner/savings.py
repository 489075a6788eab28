"""Where a plan's import avoided comes from: shifted in time, or energy not used.

The import avoided is ``I(without EMS) - I(plan)`` [Wh], ``I`` the import of a net load
(:func:`~elfe_ems.planner.kpi.import_wh`). It is split along a path through one intermediate
plan, "the plan's timing with the energy of without EMS": each device's planned power scaled
by its energy without EMS over its planned energy (its power without EMS when it plans none).
Then

- shifted in time = ``I(without EMS) - I(intermediate)``: the same energy at other hours;
- not used = ``I(intermediate) - I(plan)``: the energy the plan leaves out (a heater kept
  nearer its band's lower edge than an ordinary thermostat, a pilot-wire heater in eco),
  negative when the plan uses more energy (e.g. heating ahead on a surplus);

so the two add up to the import avoided. Each leg is shared among device types step by step,
in proportion to each type's change of power at that step: at step ``k`` the import changes by
``d_k`` for a load change of ``D_k`` [W], and a type whose power changes by ``p_k`` gets
``d_k p_k / D_k``. The shares add up to the leg (``sum p_k = D_k``), and none is larger than
that type's own change of energy, since the import of a step never changes more than its load.

Comfort given up is the thermostatic heaters' miss of their bands [K·h] with the plan less
the miss without EMS (the plan holds a band that can be held; when it cannot, both miss it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from elfe_ems.notices.collector import noun
from elfe_ems.planner.kpi import import_wh
from elfe_ems.planner.scenario import Savings, TypeSavings

MIN_LOAD_CHANGE_W = 1e-9  # below this a step's load did not change: nor did its import


@dataclass(frozen=True)
class DeviceCurves:
    """One planned device's power without EMS and with the plan [W per step], and for a
    thermostatic heater its band's miss with each [K·h] (None for the other types)."""

    type: str
    asap_w: np.ndarray
    plan_w: np.ndarray
    band_miss_kh: float | None = None
    band_miss_asap_kh: float | None = None


def explain_savings(
    net_load_w: np.ndarray, devices: Sequence[DeviceCurves], step_h: float
) -> Savings:
    """The import avoided by the plan of ``devices`` on ``net_load_w`` [W per step], split as
    the module docstring says."""
    types = sorted({d.type for d in devices})
    steps = len(net_load_w)
    asap_w, mid_w, plan_w = (np.zeros((len(types), steps)) for _ in range(3))
    for device in devices:
        row = types.index(device.type)
        asap_w[row] += device.asap_w
        plan_w[row] += device.plan_w
        mid_w[row] += _same_energy_w(device)
    shifted_wh = _shares_wh(net_load_w, asap_w, mid_w, step_h)
    not_used_wh = _shares_wh(net_load_w, mid_w, plan_w, step_h)
    by_type = []
    for row, device_type in enumerate(types):
        of_type = [d for d in devices if d.type == device_type]
        misses = [d for d in of_type if d.band_miss_kh is not None]
        by_type.append(
            TypeSavings(
                type=device_type,
                devices=len(of_type),
                import_avoided_wh=float(shifted_wh[row] + not_used_wh[row]),
                shifted_wh=float(shifted_wh[row]),
                not_used_wh=float(not_used_wh[row]),
                energy_wh=float(plan_w[row].sum() * step_h),
                energy_asap_wh=float(asap_w[row].sum() * step_h),
                band_miss_kh=sum(d.band_miss_kh or 0.0 for d in misses) if misses else None,
                band_miss_asap_kh=(
                    sum(d.band_miss_asap_kh or 0.0 for d in misses) if misses else None
                ),
            )
        )
    return Savings(
        import_avoided_wh=import_wh(net_load_w, asap_w.sum(axis=0), step_h)
        - import_wh(net_load_w, plan_w.sum(axis=0), step_h),
        shifted_wh=float(shifted_wh.sum()),
        not_used_wh=float(not_used_wh.sum()),
        comfort_given_up_kh=sum(
            (t.band_miss_kh or 0.0) - (t.band_miss_asap_kh or 0.0) for t in by_type
        ),
        by_type=by_type,
    )


def _same_energy_w(device: DeviceCurves) -> np.ndarray:
    """The device's planned power scaled to its energy without EMS (see the docstring)."""
    planned = float(device.plan_w.sum())
    if planned <= MIN_LOAD_CHANGE_W:  # plans (nearly) nothing: a ratio would overflow
        return device.asap_w
    return device.plan_w * (float(device.asap_w.sum()) / planned)


def _shares_wh(
    net_load_w: np.ndarray, from_w: np.ndarray, to_w: np.ndarray, step_h: float
) -> np.ndarray:
    """Each type's share [Wh] of the import avoided from the types' powers ``from_w`` to
    ``to_w`` [W, one row per type], step by step in proportion to its change of power."""
    from_load = net_load_w + from_w.sum(axis=0)
    to_load = net_load_w + to_w.sum(axis=0)
    avoided_wh = (np.maximum(from_load, 0.0) - np.maximum(to_load, 0.0)) * step_h
    load_change_w = from_load - to_load
    changed = np.abs(load_change_w) > MIN_LOAD_CHANGE_W
    per_w = np.divide(avoided_wh, load_change_w, out=np.zeros_like(avoided_wh), where=changed)
    # typed: numpy's stubs answer Any for a product of arrays
    shares: np.ndarray = (from_w - to_w) @ per_w
    return shares


NOT_USED_WHY = {
    "thermostatic_heater": "kept nearer the lower edge of their band than a thermostat aiming "
    "at its middle",
    "pilot_wire_heater": "in eco for the steps their comfort rules allow",
    "ev": "charged less beyond their target",
}
"""Why a type's plan uses less energy than without EMS, in plain words."""
SHOWN_KWH = 0.005  # shares below this round to 0.00 kWh: not worth a line
SHOWN_KH = 0.005  # band misses below this round to 0.00 K·h


def savings_sentences(savings: Savings, import_wh_asap: float) -> list[str]:
    """The breakdown in plain words, one sentence per line (kWh to 0.01)."""
    share = f" ({savings.import_avoided_wh / import_wh_asap:.1%})" if import_wh_asap > 0 else ""
    lines = [
        f"The plan imports {_kwh(savings.import_avoided_wh)} less than without the EMS{share}: "
        f"{_kwh(savings.shifted_wh)} by moving consumption to better hours (the same energy, "
        f"when production covers more of it) and {_kwh(savings.not_used_wh)} by energy not used."
    ]
    for part in savings.by_type:
        label = noun(part.type)
        label = label[0].upper() + label[1:]
        if part.shifted_wh / 1000 >= SHOWN_KWH:
            lines.append(f"{label}: {_kwh(part.shifted_wh)} avoided by their new hours.")
        elif part.shifted_wh / 1000 <= -SHOWN_KWH:
            lines.append(
                f"{label}: {_kwh(-part.shifted_wh)} more imported at their new hours "
                "(where others gained more)."
            )
        if abs(part.not_used_wh) / 1000 >= SHOWN_KWH:
            unused_wh = part.energy_asap_wh - part.energy_wh
            if part.not_used_wh > 0:
                why = NOT_USED_WHY.get(part.type, "used less energy")
                lines.append(
                    f"{label}: {_kwh(part.not_used_wh)} not imported, {why} "
                    f"({_kwh(unused_wh)} less energy)."
                )
            else:
                lines.append(
                    f"{label}: {_kwh(-part.not_used_wh)} more imported for "
                    f"{_kwh(-unused_wh)} more energy than without the EMS."
                )
    lines.append(_comfort_sentence(savings))
    return lines


def _comfort_sentence(savings: Savings) -> str:
    heaters = [t for t in savings.by_type if t.band_miss_kh is not None]
    if not heaters:
        return "Comfort given up: none (no thermostatic heater in the plan)."
    missed_kh = sum(t.band_miss_kh or 0.0 for t in heaters)
    asap_kh = sum(t.band_miss_asap_kh or 0.0 for t in heaters)
    both = f"{missed_kh:.2f} K·h with the plan, {asap_kh:.2f} K·h without the EMS"
    if savings.comfort_given_up_kh >= SHOWN_KH:
        more_kh = savings.comfort_given_up_kh
        return f"Comfort given up: bands missed by {more_kh:.2f} K·h more ({both})."
    if missed_kh < SHOWN_KH:
        return "Comfort given up: none; every thermostatic heater's band is held."
    return f"Comfort given up: none; bands out of reach are missed by {both}."


def _kwh(energy_wh: float) -> str:
    return f"{two_decimals(energy_wh / 1000)} kWh"


def two_decimals(value: float) -> str:
    """``value`` to 0.01, without a minus sign on a rounded zero."""
    return f"{round(value, 2) + 0.0:,.2f}"

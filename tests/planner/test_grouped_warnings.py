"""A plan with many devices in the same trouble logs one WARNING line for them all.

Twelve thermostatic heaters too weak for their band (-10 °C outside, a band of 19-23 °C): each
misses its band by the least possible. The log has one ``[WARN_CONSTRAINT]`` line naming the
kind, the count, the range of the misses, the first ids, what to do and the guide's section;
each heater's own line is at INFO (``--verbose``), and each heater's plan keeps its warning.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from elfe_ems.notices.catalogue import Notice

R = 0.01
C_HALF = 900 / (R * 0.6931471805599453)  # a = exp(-900 / (R C)) = 1/2
IDS = list(range(201, 213))


def _heater(device_id: int, power_w: float) -> dict[str, Any]:
    return {
        "id": device_id,
        "type": "thermostatic_heater",
        "power_w": power_w,
        "r_k_per_w": R,
        "c_j_per_k": C_HALF,
        "initial_temp_c": 20.0,
        "comfort_min_c": [19.0] * 4,
        "comfort_max_c": [23.0] * 4,
    }


def test_heaters_out_of_reach_give_one_warning_line(
    ems: Any, caplog: pytest.LogCaptureFixture
) -> None:
    heaters = [_heater(i, 400.0 + 20.0 * k) for k, i in enumerate(IDS)]
    raw = ems.scenario([1000.0] * 4, heaters, outdoor_temp_c=[-10.0] * 4)
    with caplog.at_level(logging.INFO):
        plan = ems.plan(raw)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    (line,) = warnings
    assert line.startswith(
        "[WARN_CONSTRAINT] 12 thermostatic heaters: comfort band out of reach, missed by "
    )
    own_misses = [float(d.warnings[0].split(", ")[-1].removesuffix(" K·h")) for d in plan.devices]
    span = re.search(r"missed by ([\d.]+) to ([\d.]+) K·h each", line)
    assert span is not None
    assert float(span[1]) == pytest.approx(min(own_misses), abs=0.05)  # 3 significant digits
    assert float(span[2]) == pytest.approx(max(own_misses), abs=0.05)
    assert "(devices 201, 202, 203, … 12 in all); " in line
    assert line.endswith(Notice.COMFORT_BAND_OUT_OF_REACH.advice)
    assert "docs/operator-guide.md#comfort-band-out-of-reach" in line
    # each heater's own line, with the same tag, at INFO only
    own = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.INFO and r.getMessage().startswith("[WARN_CONSTRAINT] device ")
    ]
    assert [int(m.split()[2]) for m in own] == IDS
    # the plan file keeps each device's own warning, as before
    for device in plan.devices:
        (warning,) = device.warnings
        assert warning.startswith("[WARN_CONSTRAINT] comfort band out of reach: missed by ")

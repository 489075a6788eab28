"""The greedy plan: always feasible, the MILP's warm start and its fallback.

Devices are placed one after the other, the largest flexible energy first, each at the
decisions its model prefers against the load left by those already placed (for a one-start
device: the start that adds the least import, earliest on ties).
"""

from __future__ import annotations

import numpy as np

from elfe_ems.planner.devices import DeviceModel


def greedy_decisions(
    models: list[DeviceModel], constant_w: list[np.ndarray], base_load_w: np.ndarray
) -> list[np.ndarray]:
    """Decisions for every model; ``base_load_w`` includes every model's constant power."""
    load = base_load_w.copy()
    flexible_wh = [
        float((model.power_w(model.asap_decisions()) - constant).sum())
        for model, constant in zip(models, constant_w, strict=True)
    ]
    decisions: list[np.ndarray] = [np.empty(0)] * len(models)
    for i in sorted(range(len(models)), key=lambda i: -flexible_wh[i]):
        decisions[i] = models[i].greedy_decisions(load)
        load += models[i].power_w(decisions[i]) - constant_w[i]
    return decisions

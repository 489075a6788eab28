"""Figures of a plan, computed from power curves (never from solver variables)."""

from __future__ import annotations

import numpy as np


def import_wh(net_load_w: np.ndarray, flex_w: np.ndarray, step_h: float) -> float:
    """Imported energy [Wh]: ``sum_k max(0, net_load_w[k] + flex_w[k]) * step_h``."""
    return float(np.maximum(0.0, net_load_w + flex_w).sum() * step_h)

"""The energy accounting on hand-made days."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from elfe_ems.backtest.metrics import EnergyFigures, captured_share, energy_figures


def test_figures_of_a_hand_made_day() -> None:
    # 4 steps of 15 min: load 1000 W, PV 0 / 2000 / 3000 / 0 W, devices 0 / 500 / 0 / 1000 W
    figures = energy_figures(
        np.full(4, 1000.0), np.array([0.0, 2000, 3000, 0]), np.array([0.0, 500, 0, 1000])
    )
    # net 1000, -500, -2000, 2000 W
    assert figures.import_wh == pytest.approx((1000 + 2000) / 4)
    assert figures.export_wh == pytest.approx((500 + 2000) / 4)
    assert figures.pv_wh == pytest.approx(5000 / 4)
    assert figures.consumption_wh == pytest.approx(5500 / 4)
    assert figures.peak_import_w == 2000
    assert figures.self_consumption == pytest.approx((1250 - 625) / 1250)
    assert figures.self_sufficiency == pytest.approx((1375 - 750) / 1375)


def test_no_pv_has_no_self_consumption_rate() -> None:
    figures = energy_figures(np.full(2, 100.0), np.zeros(2), np.zeros(2))
    assert math.isnan(figures.self_consumption)
    assert figures.self_sufficiency == 0
    assert figures.peak_import_w == 100


def test_two_days_add_up() -> None:
    one = EnergyFigures(10, 1, 5, 14, 300)
    two = EnergyFigures(20, 2, 6, 24, 200)
    assert one + two == EnergyFigures(30, 3, 11, 38, 300)


def test_captured_share() -> None:
    assert captured_share(100, 91, 90) == pytest.approx(0.9)
    assert captured_share(100, 100, 90) == 0
    assert math.isnan(captured_share(100, 100, 100))  # nothing to capture


powers = arrays(np.float64, 8, elements=st.floats(0, 10_000))


@given(powers, powers, powers)
def test_balance_holds(load: np.ndarray, pv: np.ndarray, flexible: np.ndarray) -> None:
    """Consumption - PV = import - export, and the rates stay within [0, 1]."""
    figures = energy_figures(load, pv, flexible)
    assert figures.consumption_wh - figures.pv_wh == pytest.approx(
        figures.import_wh - figures.export_wh, abs=1e-6
    )
    for rate in (figures.self_consumption, figures.self_sufficiency):
        assert math.isnan(rate) or -1e-9 <= rate <= 1 + 1e-9

"""The round's previous decisions: the published plan in force, on the round's grid."""

from __future__ import annotations

from elfe_ems.publish.in_force import PlanHistory, PublishedRow, previous_decisions
from elfe_ems.timegrid import Grid

R = 1_700_001_000  # a round start on the 900 s grid
GRID = Grid(R, 900, 4)


def test_the_previous_round_shifted_by_one_step() -> None:
    history = PlanHistory({7: [PublishedRow(R - 900, (0, 1, 0, 1))]})
    assert previous_decisions(history, 7, GRID) == [1, 0, 1, 0]  # nothing said of the last


def test_a_rerun_keeps_the_round_own_rows() -> None:
    history = PlanHistory({7: [PublishedRow(R - 900, (0, 1, 0, 1)), PublishedRow(R, (1, 1, 0, 0))]})
    assert previous_decisions(history, 7, GRID) == [1, 1, 0, 0]


def test_an_older_row_still_applied() -> None:
    history = PlanHistory({7: [PublishedRow(R - 1800, (0, 0, 1, 1))]})
    assert previous_decisions(history, 7, GRID) == [1, 1, 0, 0]


def test_no_row_no_previous_decisions() -> None:
    history = PlanHistory({8: [PublishedRow(R - 900, (1, 1, 1, 1))]})
    assert previous_decisions(history, 7, GRID) is None
    assert previous_decisions(PlanHistory({7: [PublishedRow(R - 9000, (1,))]}), 7, GRID) is None

"""What the planner minimises first, in a module of its own: the command line offers it as an
option at every start, without importing the planner (:mod:`elfe_ems.round.tariff` turns it
into the planner's options)."""

from __future__ import annotations

from enum import StrEnum


class Objective(StrEnum):
    """What the planner minimises first."""

    IMPORT = "import"
    PRICE = "price"

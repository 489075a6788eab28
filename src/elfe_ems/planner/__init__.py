"""The planner: a pure function from a scenario to a plan."""

from elfe_ems.planner.core import SolveOptions, SolveStats, solve

__all__ = ["SolveOptions", "SolveStats", "solve"]

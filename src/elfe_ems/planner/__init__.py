"""The planner: a pure function from a scenario to a plan (:func:`elfe_ems.planner.core.solve`).

This package's ``__init__`` imports nothing, so that reading the scenario types
(:mod:`elfe_ems.planner.scenario`) does not load the solver.
"""

"""Warnings for people: one line per kind of problem, not one per device.

:mod:`~elfe_ems.notices.catalogue` holds the wording of each kind (its tag, short text, what
to do and its section in the operator guide); :mod:`~elfe_ems.notices.collector` groups the
devices that meet the same kind in one run into one WARNING line;
:mod:`~elfe_ems.notices.hints` names a command in a hint the way the user runs it. A leaf of
the package (it imports only :mod:`elfe_ems.logtags`), so that the pure planner and the light
acquisition jobs can use it.
"""

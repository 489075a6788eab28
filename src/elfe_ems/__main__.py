"""``python -m elfe_ems``: the ``ems`` command (how ``ems serve`` starts each run of a job)."""

from elfe_ems.cli import app

app(prog_name="ems")

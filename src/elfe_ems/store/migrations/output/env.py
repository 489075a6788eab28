"""Alembic environment of the output database (configured by :mod:`elfe_ems.store.migrate`)."""

from elfe_ems.store.migrate import run_migrations

run_migrations("output")

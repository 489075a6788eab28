"""The PostgreSQL roles of an installation, with least privilege, as SQL run by an admin.

Three login roles: the **store owner** owns the store database (its tables, made by the
migrations) and the output schema; the **output writer** may only read and write the rows of
the output schema's tables (no table of its own, nothing of the store); the **coordination
reader** may only SELECT the coordination schema. The migrations of both databases run as the
owner, so the output writer never needs to create a table. Every statement is idempotent:
``ems install`` runs them again at each upgrade.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from elfe_ems.jobs.database_layout import DatabaseLayout

OUTPUT_PRIVILEGES = sql.SQL("SELECT, INSERT, UPDATE, DELETE")
"""What the output writer may do with the output tables' rows (a round replaces its rows)."""


@dataclass(frozen=True)
class Statements:
    """Statements to run connected to ``database`` (None: the admin URL's own database)."""

    database: str | None
    statements: tuple[sql.SQL | sql.Composed, ...]


def _login_role(name: str) -> sql.Composed:
    # no CREATE ROLE IF NOT EXISTS in PostgreSQL; the password is set apart, as a parameter
    return sql.SQL(
        "DO $$ BEGIN CREATE ROLE {} LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
    ).format(sql.Identifier(name))


def create_database(layout: DatabaseLayout) -> sql.Composed:
    """The store database, owned by the owner (run only when it does not exist: PostgreSQL has
    no CREATE DATABASE IF NOT EXISTS)."""
    return sql.SQL("CREATE DATABASE {} OWNER {}").format(
        sql.Identifier(layout.store_database), sql.Identifier(layout.owner_role)
    )


def set_password(role: str, password: sql.Composable) -> sql.Composed:
    """The statement that sets ``role``'s password (a literal: ALTER ROLE takes no
    parameter; the statement is never logged)."""
    return sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), password)


def role_statements(layout: DatabaseLayout) -> list[Statements]:
    """Every statement but the database's creation and the passwords, by database."""
    owner, output, reader = (
        sql.Identifier(r) for r in (layout.owner_role, layout.output_role, layout.reader_role)
    )
    store_db = sql.Identifier(layout.store_database)
    out_schema = sql.Identifier(layout.output_schema)
    coord_db = sql.Identifier(layout.coordination_database)
    coord_schema = sql.Identifier(layout.coordination_schema)
    return [
        Statements(
            None,
            tuple(
                _login_role(r) for r in (layout.owner_role, layout.output_role, layout.reader_role)
            ),
        ),
        Statements(
            layout.store_database,
            (
                # only the owner creates objects here (PUBLIC may not, even in schema public)
                sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(store_db),
                sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"),
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(store_db, output),
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(
                    out_schema, owner
                ),
                sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(out_schema, output),
                sql.SQL("GRANT {} ON ALL TABLES IN SCHEMA {} TO {}").format(
                    OUTPUT_PRIVILEGES, out_schema, output
                ),
                sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(
                    out_schema, output
                ),
                # the tables of later migrations, made by the owner, get the same grants
                sql.SQL(
                    "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT {} ON TABLES TO {}"
                ).format(owner, out_schema, OUTPUT_PRIVILEGES, output),
                sql.SQL(
                    "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} "
                    "GRANT USAGE ON SEQUENCES TO {}"
                ).format(owner, out_schema, output),
            ),
        ),
        Statements(
            layout.coordination_database,
            (
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(coord_db, reader),
                sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(coord_schema, reader),
                sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
                    coord_schema, reader
                ),
            ),
        ),
    ]


def apply(admin_url: str, layout: DatabaseLayout, passwords: Mapping[str, str]) -> list[str]:
    """Run every statement with ``admin_url`` (a PostgreSQL superuser, or a role that may
    create roles and databases and grant on the coordination schema), creating the store
    database when it is missing, and set each role's password of ``passwords`` (by role).
    The steps done, one line each, without a password."""
    done: list[str] = []
    groups = role_statements(layout)
    with psycopg.connect(admin_url, autocommit=True) as connection:
        _run(connection, groups[0], done)
        for role, password in passwords.items():
            connection.execute(set_password(role, sql.Literal(password)))
            done.append(f"password of role {role} set")
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (layout.store_database,)
        ).fetchone()
        if exists is None:
            connection.execute(create_database(layout))
            done.append(f"database {layout.store_database} created")
    for group in groups[1:]:
        url = make_conninfo(admin_url, dbname=group.database)
        with psycopg.connect(url, autocommit=True) as connection:
            _run(connection, group, done)
    return done


def _run(connection: psycopg.Connection, group: Statements, done: list[str]) -> None:
    with connection.transaction():
        for statement in group.statements:
            connection.execute(statement)
    where = group.database or "the server"
    done.append(f"{len(group.statements)} statements run in {where}")


def script(layout: DatabaseLayout) -> str:
    """The statements as a psql script for a DBA; the passwords are psql variables
    (``psql -v ems_password=…``), the store database's creation is left to the DBA when it
    exists."""
    roles, *databases = role_statements(layout)
    lines = [f"{s.as_string()};" for s in roles.statements]
    for role in (layout.owner_role, layout.output_role, layout.reader_role):
        variable = sql.SQL(f":'{role}_password'")  # psql -v ROLE_password=...
        lines.append(f"{set_password(role, variable).as_string()};")
    lines.append(f"-- when database {layout.store_database} does not exist yet:")
    lines.append(f"{create_database(layout).as_string()};")
    for group in databases:
        lines.append(f"\\connect {group.database}")
        lines += [f"{s.as_string()};" for s in group.statements]
    return "\n".join(lines) + "\n"

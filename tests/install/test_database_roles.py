"""The roles' SQL (``jobs/database_roles.py``) on a fresh PostgreSQL database: each role may
do what the EMS needs and nothing more, and running it again changes nothing."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors, sql
from sqlalchemy import make_url

from elfe_ems.db.engine import engine_for
from elfe_ems.jobs import database_roles
from elfe_ems.jobs.database_layout import DatabaseLayout
from elfe_ems.store import migrate
from elfe_ems.store.tables import OUTPUT, STORE
from postgres import ADMIN_URL, url_of


def as_role(role: str, database: str, schema: str | None = None) -> psycopg.Connection:
    """A connection as ``role`` (the test server trusts every role: no password)."""
    options = {"options": f"-c search_path={schema}"} if schema else {}
    return psycopg.connect(ADMIN_URL, dbname=database, user=role, autocommit=True, **options)


def installed(layout: DatabaseLayout) -> list[str]:
    """The SQL applied, then both databases migrated as the owner, as ``ems install`` does."""
    passwords = {r: "unused" for r in (layout.owner_role, layout.output_role, layout.reader_role)}
    done = database_roles.apply(ADMIN_URL, layout, passwords)
    for database, schema in (("store", None), ("output", layout.output_schema)):
        url = make_url(url_of(layout.store_database, schema)).set(username=layout.owner_role)
        with engine_for(url.render_as_string(hide_password=False)) as engine:
            migrate.upgrade(engine, database)
    return done


def refused(connection: psycopg.Connection, statement: str) -> bool:
    try:
        connection.execute(statement)
    except errors.InsufficientPrivilege:
        return True
    return False


@pytest.fixture(scope="module")
def first_install(layout: DatabaseLayout) -> list[str]:
    """The steps done by the first application, on this module's fresh layout."""
    return installed(layout)


@pytest.mark.usefixtures("first_install")
def test_output_role_writes_the_output_rows_only(layout: DatabaseLayout) -> None:
    with as_role(layout.output_role, layout.store_database, layout.output_schema) as connection:
        connection.execute("INSERT INTO ems_run_info VALUES (1, 2, 3, 0, 4, 3600, 5)")
        connection.execute("UPDATE ems_run_info SET consumer_count = 6")
        assert connection.execute("SELECT consumer_count FROM ems_run_info").fetchall() == [(6,)]
        connection.execute("DELETE FROM ems_run_info")
        assert refused(connection, "CREATE TABLE ems_output.own (x int)")
        assert refused(connection, "CREATE TABLE public.own (x int)")
        assert refused(connection, "SELECT * FROM public.run_log")
        assert refused(connection, "DROP TABLE ems_run_info")


@pytest.mark.usefixtures("first_install")
def test_reader_role_only_selects_the_coordination(layout: DatabaseLayout) -> None:
    coordination = layout.coordination_database
    with as_role(layout.reader_role, coordination, layout.coordination_schema) as connection:
        assert connection.execute("SELECT count(*) FROM equipement_pilote_ou_mesure").fetchone()
        assert refused(
            connection,
            "INSERT INTO equipement_pilote_ou_mesure (id, nom_humain) VALUES (1, 'x')",
        )
        assert refused(connection, "CREATE TABLE elfe.own (x int)")
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        as_role(layout.reader_role, layout.store_database).close()


@pytest.mark.usefixtures("first_install")
def test_owner_owns_every_table(layout: DatabaseLayout) -> None:
    with as_role(layout.owner_role, layout.store_database) as connection:
        owners = dict(
            connection.execute(
                "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = ANY(%s)",
                (["public", layout.output_schema],),
            ).fetchall()
        )
    expected = {t.name for t in STORE.sorted_tables} | {t.name for t in OUTPUT.sorted_tables}
    assert expected <= set(owners)
    assert set(owners.values()) == {layout.owner_role}


def test_applied_again_changes_nothing(layout: DatabaseLayout, first_install: list[str]) -> None:
    first = first_install
    again = installed(layout)
    assert f"database {layout.store_database} created" in first
    assert not any("created" in line for line in again)
    with as_role(layout.output_role, layout.store_database, layout.output_schema) as connection:
        connection.execute("SELECT count(*) FROM result")


def test_printed_script_is_the_applied_sql(layout: DatabaseLayout) -> None:
    """The DBA's script has the same statements, passwords as psql variables, and none."""
    text = database_roles.script(layout)
    for group in database_roles.role_statements(layout):
        for statement in group.statements:
            assert f"{statement.as_string()};\n" in text
    assert f"PASSWORD :'{layout.output_role}_password';" in text
    assert f"\\connect {layout.coordination_database}\n" in text
    assert sql.Identifier(layout.store_database).as_string() in text


def test_bad_names_are_refused() -> None:
    with pytest.raises(ValueError, match="owner-role 'Ems; DROP': lower-case letters"):
        DatabaseLayout(owner_role="Ems; DROP")

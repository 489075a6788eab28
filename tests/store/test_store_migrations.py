"""Migrations of the store and output databases, on SQLite and on a real PostgreSQL.

The output tables are checked against spec docs/spec/elfe.md §3 column by column (names, order,
integer types, NOT NULL), then the guarantees added to them: one row per (round, device,
planning method), decisions never NULL, Unix times past 2038.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    BigInteger,
    Engine,
    Integer,
    Text,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from elfe_ems.db.engine import make_engine, schema_of
from elfe_ems.store import migrate, tables, thermal

DECISIONS = [f"decisions_{k}" for k in range(96)]
SPEC_RESULT = ["id", "first_valid_timestamp", "machine_id", "result_type", "machine_type"]
SPEC_RUN_INFO = [
    "timestamp",
    "run_time_ms",
    "consumer_count",
    "conso_min_hour_timestamp",
    "conso_min_hour",
    "conso_max_hour_timestamp",
    "conso_max_hour",
]
UNIX_TIMES = {"first_valid_timestamp", "data_timestamp", "timestamp"} | {
    "conso_min_hour_timestamp",
    "conso_max_hour_timestamp",
}
YEAR_2100 = 4_102_444_800  # 2100-01-01T00:00:00Z, past 2**31 - 1 (2038-01-19)
OUR_TABLES = set(tables.OUTPUT.tables) | set(tables.STORE.tables)


def result_row(
    first_valid_timestamp: int = 1_700_001_000,
    machine_id: int = 7,
    method: str = "elfe-ems",
    **decisions: int | None,
) -> dict[str, Any]:
    """A result row with every decision 0 unless given."""
    return {
        "first_valid_timestamp": first_valid_timestamp,
        "machine_id": machine_id,
        "result_type": 0,
        "machine_type": 111,
        "planning_method": method,
        **dict.fromkeys(DECISIONS, 0),
        **decisions,
    }


def columns(engine: Engine, table: str) -> list[dict[str, Any]]:
    return inspect(engine).get_columns(table)


def test_output_tables_have_the_spec_columns(migrated: Engine) -> None:
    result = columns(migrated, "result")
    # the spec's columns first, in the spec's order, then ours
    assert [c["name"] for c in result] == [*SPEC_RESULT, *DECISIONS, "planning_method"]
    for table in ("p_c_without_flexible_consumption", "p_c_with_flexible_consumption"):
        assert [c["name"] for c in columns(migrated, table)] == ["data_timestamp", "power"]
    run_info = columns(migrated, "ems_run_info")
    assert [c["name"] for c in run_info] == SPEC_RUN_INFO
    for table, cols in (("result", result), ("ems_run_info", run_info)):
        for column in cols:
            assert not column["nullable"], f"{table}.{column['name']}"
            if column["name"] == "planning_method":
                assert isinstance(column["type"], Text)
            elif column["name"] in UNIX_TIMES:  # BIGINT: see the tables module docstring
                assert isinstance(column["type"], BigInteger), column["name"]
            else:
                assert isinstance(column["type"], Integer), column["name"]
                assert not isinstance(column["type"], BigInteger), column["name"]
    inspector = inspect(migrated)
    assert inspector.get_pk_constraint("result")["constrained_columns"] == ["id"]
    assert inspector.get_pk_constraint("ems_run_info")["constrained_columns"] == ["timestamp"]
    assert inspector.get_pk_constraint("p_c_with_flexible_consumption")["constrained_columns"] == [
        "data_timestamp"
    ]


def test_result_has_the_control_daemon_index(migrated: Engine) -> None:
    indexes = {i["name"]: i for i in inspect(migrated).get_indexes("result")}
    index = indexes["ix_result_machine_id_first_valid_timestamp"]
    assert index["column_names"] == ["machine_id", "first_valid_timestamp"]


def test_one_result_row_per_round_device_and_method(migrated: Engine) -> None:
    with migrated.begin() as connection:
        connection.execute(insert(tables.result), [result_row()])
    with pytest.raises(IntegrityError), migrated.begin() as connection:
        connection.execute(insert(tables.result), [result_row(decisions_3=1)])
    with migrated.begin() as connection:  # another method, round or device: a new row
        connection.execute(
            insert(tables.result),
            [
                result_row(method="other"),
                result_row(first_valid_timestamp=1_700_001_900),
                result_row(machine_id=8),
            ],
        )
        count = len(connection.execute(select(tables.result.c.id)).all())
    assert count == 4


def test_decisions_are_never_null(migrated: Engine) -> None:
    with pytest.raises(IntegrityError), migrated.begin() as connection:
        connection.execute(insert(tables.result), [result_row(decisions_95=None)])


def test_unix_times_past_2038(migrated: Engine) -> None:
    with migrated.begin() as connection:
        connection.execute(insert(tables.result), [result_row(YEAR_2100)])
        connection.execute(
            insert(tables.p_c_with_flexible_consumption),
            [{"data_timestamp": YEAR_2100, "power": -5}],
        )
        connection.execute(
            insert(tables.ems_run_info),
            [
                {
                    "timestamp": YEAR_2100,
                    "run_time_ms": 1200,
                    "consumer_count": 3,
                    "conso_min_hour_timestamp": YEAR_2100 + 3600,
                    "conso_min_hour": -2500,
                    "conso_max_hour_timestamp": YEAR_2100 + 7200,
                    "conso_max_hour": 1800,
                }
            ],
        )
        stored = connection.execute(select(tables.result.c.first_valid_timestamp)).scalar_one()
        info = connection.execute(select(tables.ems_run_info)).one()
    assert stored == YEAR_2100
    assert info.conso_max_hour_timestamp == YEAR_2100 + 7200


def test_upgrade_twice_is_a_no_op(engine: Engine) -> None:
    assert migrate.upgrade(engine, "store") == (None, migrate.head_revision("store"))
    assert migrate.upgrade(engine, "output") == (None, migrate.head_revision("output"))
    with engine.begin() as connection:
        connection.execute(
            update(tables.thermal_model).where(tables.thermal_model.c.id == 1).values(name="kept")
        )
    before = sorted(inspect(engine).get_table_names())
    for database in migrate.DATABASES:
        head = migrate.head_revision(database)
        assert migrate.upgrade(engine, database) == (head, head)
    engine.dispose()  # a new inspector, not a cached one
    assert sorted(inspect(engine).get_table_names()) == before
    with engine.connect() as connection:
        models = thermal.list_models(connection)
    assert [(m.id, m.name) for m in models] == [(0, None), (1, "kept"), (2, None)]


def test_thermal_models_are_seeded(migrated: Engine) -> None:
    with migrated.connect() as connection:
        models = thermal.list_models(connection)
    assert [(m.id, m.r_k_per_w, m.c_j_per_k) for m in models] == [
        (0, 0.003893, 3_328_767),
        (1, 0.004570, 2_835_616),
        (2, 0.005622, 2_305_479),
    ]


def test_migrations_create_exactly_the_metadata(migrated: Engine) -> None:
    """The migrated schema equals tables.py: a change to one without the other fails here."""
    with migrated.connect() as connection:
        for database in migrate.DATABASES:
            metadata = migrate.METADATA[database]
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "compare_server_default": True,
                    "include_name": migrate.own_tables(metadata),
                    "version_table": migrate.version_table(database),
                },
            )
            assert compare_metadata(context, metadata) == [], database


def test_downgrade_to_empty_and_up_again(migrated: Engine) -> None:
    for database in migrate.DATABASES:
        with migrated.begin() as connection:
            command.downgrade(migrate.alembic_config(database, connection), "base")
    migrated.dispose()
    assert not OUR_TABLES & set(inspect(migrated).get_table_names())
    for database in migrate.DATABASES:
        assert migrate.upgrade(migrated, database)[1] == migrate.head_revision(database)
    migrated.dispose()
    assert set(inspect(migrated).get_table_names()) >= OUR_TABLES


def test_one_current_cycle_profile_per_machine(migrated: Engine) -> None:
    profile = {"power_item_id": 4242, "learned_at": 10, "cycle_start": 5, "profile_w": [900.0]}
    with migrated.begin() as connection:
        connection.execute(insert(tables.machine_cycle_settings).values(power_item_id=4242))
        connection.execute(insert(tables.machine_cycle_profile), [{**profile, "superseded_at": 9}])
        connection.execute(insert(tables.machine_cycle_profile), [profile])
        settings = connection.execute(select(tables.machine_cycle_settings)).one()
        stored = connection.execute(
            select(tables.machine_cycle_profile.c.profile_w).where(
                tables.machine_cycle_profile.c.superseded_at.is_(None)
            )
        ).scalar_one()
    assert (settings.threshold_start_w, settings.quiet_periods, settings.period_s) == (40, 1, 900)
    assert stored == [900.0]
    with pytest.raises(IntegrityError), migrated.begin() as connection:
        connection.execute(insert(tables.machine_cycle_profile), [profile])


def test_foreign_keys_and_checks_are_enforced(migrated: Engine) -> None:
    orphan = {"power_item_id": 1, "learned_at": 1, "cycle_start": 1, "profile_w": [1.0]}
    with pytest.raises(IntegrityError), migrated.begin() as connection:
        connection.execute(insert(tables.machine_cycle_profile), [orphan])
    with pytest.raises(IntegrityError), migrated.begin() as connection:
        connection.execute(
            insert(tables.thermal_model), [{"id": 9, "r_k_per_w": -1, "c_j_per_k": 1}]
        )
    run = {"round_start": 0, "planning_method": "m", "started_at": 0.5, "status": "done?"}
    with pytest.raises(IntegrityError), migrated.begin() as connection:
        connection.execute(insert(tables.run_log), [run])


def test_both_databases_share_one_sqlite_file(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    for database in migrate.DATABASES:
        migrate.upgrade(engine, database)
    names = set(inspect(engine).get_table_names())
    assert {"alembic_version_store", "alembic_version_output"} <= names
    assert "alembic_version" not in names
    with engine.connect() as connection:
        for database in migrate.DATABASES:
            current = migrate.current_revision(connection, database)
            assert current == migrate.head_revision(database)
    engine.dispose()


def test_store_and_output_in_separate_files(tmp_path: Path) -> None:
    engines = {d: make_engine(f"sqlite:///{tmp_path / d}.sqlite") for d in migrate.DATABASES}
    for database, engine in engines.items():
        migrate.upgrade(engine, database)
        names = set(inspect(engine).get_table_names())
        assert names == {*migrate.METADATA[database].tables, migrate.version_table(database)}
        engine.dispose()


def test_postgresql_schema_from_the_search_path(pg_url: str) -> None:
    engine = make_engine(pg_url)
    for database in migrate.DATABASES:
        migrate.upgrade(engine, database)
    with engine.connect() as connection:
        schema = schema_of(connection)
    inspector = inspect(engine)
    assert schema is not None
    assert schema.startswith("s_")
    assert set(inspector.get_table_names(schema=schema)) >= OUR_TABLES
    assert not OUR_TABLES & set(inspector.get_table_names(schema="public"))
    engine.dispose()


def test_postgresql_public_schema_of_a_fresh_database(pg_fresh_url: str) -> None:
    engine = make_engine(pg_fresh_url)
    for database in migrate.DATABASES:
        migrate.upgrade(engine, database)
    with engine.connect() as connection:
        assert schema_of(connection) == "public"
    assert set(inspect(engine).get_table_names(schema="public")) >= OUR_TABLES
    engine.dispose()

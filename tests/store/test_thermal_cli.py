"""``ems thermal list`` and ``ems thermal set``, on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from elfe_ems.db.engine import engine_for
from elfe_ems.store import migrate, thermal

SEEDS = [("0.003893", "3,328,767"), ("0.00457", "2,835,616"), ("0.005622", "2,305,479")]


@pytest.fixture
def store(ems_cli: Any, db_url: str) -> dict[str, str]:
    """The environment of a migrated store (and output) of each kind."""
    env = {"EMS_STORE_URL": db_url, "EMS_OUTPUT_URL": db_url}
    result = ems_cli("db", "upgrade", **env)
    assert result.exit_code == 0, result.output
    return env


def models(url: str) -> list[thermal.ThermalModel]:
    with engine_for(url) as engine, engine.connect() as connection:
        return thermal.list_models(connection)


def test_list_shows_the_seeds(ems_cli: Any, store: dict[str, str]) -> None:
    result = ems_cli("thermal", "list", **store)
    assert result.exit_code == 0, result.output
    for model_id, (r, c) in enumerate(SEEDS):
        row = next(line for line in result.output.splitlines() if f" {r} " in line)
        assert row.split()[1] == str(model_id)
        assert c in row
        assert "3.60" in row  # R C [h]: the three seeds share a 3.6 h time constant


def test_set_updates_and_creates(ems_cli: Any, store: dict[str, str]) -> None:
    updated = ems_cli("thermal", "set", "1", "--r", "0.005", "--c", "3e6", "--name", "A", **store)
    assert updated.exit_code == 0, updated.output
    assert "Thermal model 1 updated: R = 0.005 K/W, C = 3,000,000 J/K, R C = 4.17 h" in (
        updated.output
    )
    created = ems_cli("thermal", "set", "7", "--r", "0.004", "--c", "2500000", **store)
    assert created.exit_code == 0, created.output
    assert "Thermal model 7 created" in created.output
    renamed_kept = ems_cli("thermal", "set", "1", "--r", "0.006", "--c", "3e6", **store)
    assert renamed_kept.exit_code == 0, renamed_kept.output
    assert [(m.id, m.name, m.r_k_per_w, m.c_j_per_k) for m in models(store["EMS_STORE_URL"])] == [
        (0, None, 0.003893, 3_328_767),
        (1, "A", 0.006, 3_000_000),
        (2, None, 0.005622, 2_305_479),
        (7, None, 0.004, 2_500_000),
    ]
    listed = ems_cli("thermal", "list", **store)
    (row,) = [line for line in listed.output.splitlines() if "2,500,000" in line]
    cells = [cell.strip() for cell in row.split("│")[1:-1]]
    assert cells == ["7", "", "0.004", "2,500,000", "2.78"]  # R C = 10,000 s


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["2", "--r", "0", "--c", "3e6"], "thermal model 2: R must be > 0, not 0.0"),
        (["2", "--r", "0.004", "--c", "-1"], "thermal model 2: C must be > 0, not -1.0"),
        (["2", "--r", "nan", "--c", "1e6"], "R must be > 0, not nan"),
    ],
)
def test_set_refuses_impossible_values(
    ems_cli: Any, store: dict[str, str], args: list[str], message: str
) -> None:
    result = ems_cli("thermal", "set", *args, **store)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert models(store["EMS_STORE_URL"])[2].r_k_per_w == 0.005622  # unchanged


def test_store_not_upgraded(ems_cli: Any) -> None:
    result = ems_cli("thermal", "list")
    assert result.exit_code == 1, result.output
    head = migrate.head_revision("store")
    assert f"is at revision none, not {head}: run `ems db upgrade` first" in result.output

"""Engines from URLs: driver choice, refused URLs (password masked), SQLite pragmas."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from elfe_ems.db.engine import DatabaseUrlError, engine_for, make_engine, parse_url, schema_of


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://ems:pw@db.example.org/elfe",
        "postgres://ems:pw@db.example.org/elfe",
        "postgresql+psycopg://ems:pw@db.example.org/elfe",
    ],
)
def test_postgresql_urls_use_psycopg_3(url: str) -> None:
    parsed = parse_url(url)
    assert parsed.drivername == "postgresql+psycopg"
    assert (parsed.host, parsed.database, parsed.password) == ("db.example.org", "elfe", "pw")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mysql://ems:s3cret@db/elfe", "only PostgreSQL and SQLite"),
        ("not a url, s3cret", "not a database URL"),
    ],
)
def test_unusable_urls_are_refused_without_their_password(url: str, reason: str) -> None:
    with pytest.raises(DatabaseUrlError) as caught:
        make_engine(url)
    assert reason in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_sqlite_file_gets_its_folder_foreign_keys_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "ems.sqlite"
    with engine_for(f"sqlite:///{path}") as engine, engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert schema_of(connection) is None
    assert path.is_file()


def test_sqlite_in_memory(tmp_path: Path) -> None:
    with engine_for("sqlite://") as engine, engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert list(tmp_path.iterdir()) == []  # the working directory: nothing created


def test_postgresql_url_connects_with_its_search_path(pg_url: str) -> None:
    assert pg_url.startswith("postgresql://")
    with engine_for(pg_url) as engine, engine.connect() as connection:
        assert engine.dialect.driver == "psycopg"
        schema = schema_of(connection)
        assert schema is not None
        assert make_url(pg_url).query["options"] == f"-c search_path={schema}"

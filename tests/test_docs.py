"""The documentation keeps up with the code: every configuration key and every job is in the
operator guide, with the default the code has."""

from __future__ import annotations

from pathlib import Path

import pytest

from elfe_ems.config import Settings
from elfe_ems.jobs.registry import JOBS

DOCS = Path(__file__).parents[1] / "docs"
GUIDE = (DOCS / "operator-guide.md").read_text(encoding="utf-8")


def _table_row(key: str) -> str:
    rows = [line for line in GUIDE.splitlines() if line.startswith(f"| `{key}` |")]
    assert len(rows) == 1, f"{key} is not in the operator guide's configuration table"
    return rows[0]


@pytest.mark.parametrize("key", list(Settings.model_fields))
def test_every_configuration_key_is_documented_with_its_default(key: str) -> None:
    field = Settings.model_fields[key]
    row = _table_row(key)
    if field.default_factory is None and field.default is not None:
        default = field.default
        shown = str(default).lower() if isinstance(default, bool) else str(default)
        assert shown.replace("'", '"') in row.replace("'", '"'), (key, row)


@pytest.mark.parametrize("job", [job.name for job in JOBS])
def test_every_job_is_in_the_acquisition_docs(job: str) -> None:
    assert f"`{job}`" in (DOCS / "acquisition.md").read_text(encoding="utf-8")

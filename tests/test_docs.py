"""The documentation keeps up with the code: every configuration key and every job is in the
operator guide, with the default the code has."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from elfe_ems.config import Settings
from elfe_ems.jobs.registry import JOBS
from elfe_ems.jobs.systemd import CONFIG_FILE_MODE
from elfe_ems.notices.catalogue import GUIDE as GUIDE_PATH
from elfe_ems.notices.catalogue import Notice

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


def test_the_guide_gives_the_mode_of_the_secrets_file() -> None:
    """The first mode after each mention of secrets.env is the one `ems install` gives it."""
    modes = re.findall(r"secrets\.env[^;]*?mode (\d{4})", GUIDE)
    assert modes, "the operator guide gives no mode of secrets.env"
    assert set(modes) == {f"{CONFIG_FILE_MODE:04o}"}


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens."""
    kept = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return kept.replace(" ", "-")


@pytest.mark.parametrize("notice", list(Notice), ids=lambda notice: notice.name)
def test_every_warning_kind_has_its_section_in_the_guide(notice: Notice) -> None:
    assert GUIDE_PATH == "docs/operator-guide.md"
    anchors = [_anchor(line.lstrip("#")) for line in GUIDE.splitlines() if line.startswith("#")]
    assert anchors.count(notice.value.anchor) == 1, notice.see

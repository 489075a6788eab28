"""Configuration: defaults, TOML file, environment, their precedence; masked passwords."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from elfe_ems.config import ConfigError, Settings, load_settings, mask_url, redact

EXAMPLE = Path(__file__).parents[1] / "examples" / "config.toml"

pytestmark = pytest.mark.usefixtures("isolated")
EMBEDDED = "sqlite:///ems-data/ems.sqlite"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_one_embedded_sqlite_file() -> None:
    settings = load_settings()
    assert settings.coordination_url == settings.store_url == settings.output_url == EMBEDDED
    assert settings.data_dir == Path("ems-data")
    assert settings.run_conditions_dir == Path("ems-data/run-conditions")
    assert settings.timezone == "Europe/Paris"
    assert settings.zone.key == "Europe/Paris"
    assert settings.planning_method == "elfe-ems"
    assert (settings.time_limit_s, settings.gap) == (60.0, 1e-4)


def test_data_dir_moves_every_default_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMS_DATA_DIR", "/var/lib/ems")
    settings = load_settings()
    assert settings.store_url == "sqlite:////var/lib/ems/ems.sqlite"
    assert settings.output_url == settings.coordination_url == settings.store_url
    assert settings.run_conditions_dir == Path("/var/lib/ems/run-conditions")


def test_environment_over_file_over_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(
        tmp_path / "ems.toml",
        'gap = 0.01\ntimezone = "UTC"\nstore_url = "postgresql://ems@file-host/ems"\n'
        'data_dir = "/srv/ems"\n',
    )
    monkeypatch.setenv("EMS_GAP", "0.02")
    monkeypatch.setenv("EMS_STORE_URL", "postgresql://ems@env-host/ems")
    settings = load_settings(config)
    assert settings.gap == 0.02  # environment
    assert settings.store_url == "postgresql://ems@env-host/ems"  # environment
    assert settings.timezone == "UTC"  # file
    assert settings.output_url == "sqlite:////srv/ems/ems.sqlite"  # default, from file's dir
    assert settings.time_limit_s == 60.0  # default


def test_file_named_by_ems_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMS_CONFIG", str(write(tmp_path / "a.toml", 'planning_method = "a"\n')))
    assert load_settings().planning_method == "a"
    explicit = write(tmp_path / "b.toml", 'planning_method = "b"\n')
    assert load_settings(explicit).planning_method == "b"  # --config wins over EMS_CONFIG


def test_settings_alone_ignore_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EMS_CONFIG", str(write(tmp_path / "a.toml", 'planning_method = "a"\n')))
    assert Settings().planning_method == "elfe-ems"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('store_uri = "postgresql://ems:s3cret@db/ems"\n', "store_uri: Extra inputs"),
        ('timezone = "Mars/Olympus"\n', "unknown time zone 'Mars/Olympus'"),
        ("gap = 2\n", "gap: Input should be less than or equal to 1"),
        ("time_limit_s = 0\n", "time_limit_s: Input should be greater than 0"),
        ('planning_method = ""\n', "planning_method: String should have at least 1"),
        ('gap = "s3cret\n', "not valid TOML"),
        ('_secrets_dir = "/"\n', "unknown keys _secrets_dir"),
    ],
)
def test_invalid_file_names_the_key_not_the_value(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path / "ems.toml", text))
    assert message in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_settings(tmp_path / "nowhere.toml")


def test_example_file_documents_every_key_with_the_defaults() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for key, field in Settings.model_fields.items():
        assert field.description, f"{key} has no description"
        assert f"{key} = " in text, f"{key} is not in {EXAMPLE.name}"
    assert tomllib.loads(text)  # valid TOML
    assert load_settings(EXAMPLE) == Settings()


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://ems:s3cret@db:5432/elfe", "postgresql://ems:***@db:5432/elfe"),
        ("postgresql://ems@db/elfe?password=s3cret", "postgresql://ems@db/elfe?password=%2A%2A%2A"),
        ("postgresql://ems:s%40cret@db/elfe", "postgresql://ems:***@db/elfe"),
        ("sqlite:///ems-data/ems.sqlite", "sqlite:///ems-data/ems.sqlite"),
        ("s3cret", "<unparseable database URL>"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_redact_plain_and_encoded_passwords() -> None:
    url = "postgresql://ems:p%40ss@db/elfe"
    message = f"auth failed for p@ss, in {url}, in postgresql://ems:p%40ss@db"
    expected = "auth failed for ***, in postgresql://ems:***@db/elfe, in postgresql://ems:***@db"
    assert redact(message, url) == expected
    assert redact("nothing to hide", "sqlite://", "garbage") == "nothing to hide"
    assert redact("bad URL s3cret", "s3cret") == "bad URL <unparseable database URL>"


def test_settings_repr_masks_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMS_OUTPUT_URL", "postgresql://ems:s3cret@db/elfe")
    settings = load_settings()
    assert settings.output_url == "postgresql://ems:s3cret@db/elfe"  # the value is intact
    for shown in (repr(settings), str(settings)):
        assert "s3cret" not in shown
        assert "postgresql://ems:***@db/elfe" in shown

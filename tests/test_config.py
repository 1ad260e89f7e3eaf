"""Settings precedence: flags > ARGUS_* environment > TOML file > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from argus.config import load_settings
from argus.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_use_xdg_data_home(tmp_path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    settings = load_settings(environ=env)
    assert settings.home == tmp_path / "data" / "argus"
    assert (settings.host, settings.port, settings.log_level) == ("127.0.0.1", 8000, "INFO")


def test_precedence_flags_env_file_defaults(tmp_path) -> None:
    cfg = write(tmp_path / "c.toml", '[argus]\nport = 9001\nhost = "0.0.0.0"\nthreads = 3\n')
    env = {"ARGUS_PORT": "9002", "ARGUS_HOST": "127.0.0.2", "ARGUS_HOME": str(tmp_path / "h")}
    settings = load_settings({"port": 9003}, config_file=cfg, environ=env)
    assert settings.port == 9003  # flag
    assert settings.host == "127.0.0.2"  # environment over file
    assert settings.threads == 3  # file over default
    assert settings.retention_days == 30  # default
    assert settings.home == tmp_path / "h"


def test_default_config_file_is_read_from_xdg(tmp_path) -> None:
    (tmp_path / "argus").mkdir()
    write(tmp_path / "argus" / "config.toml", "retention_days = 7\n")
    settings = load_settings(environ={"XDG_CONFIG_HOME": str(tmp_path), "ARGUS_HOME": "/tmp/x"})
    assert settings.retention_days == 7


def test_tachyon_key_variable_is_honoured(tmp_path) -> None:
    env = {"TACHYON_API_KEY": "k" * 20, "ARGUS_HOME": str(tmp_path)}
    assert load_settings(environ=env).api_key == "k" * 20


@pytest.mark.parametrize(
    ("text", "message"),
    [("port = 'many'", "port"), ("bogus = 1", "bogus"), ("port = [", "not valid TOML")],
)
def test_bad_config_is_a_clear_error(tmp_path, text, message) -> None:
    cfg = write(tmp_path / "bad.toml", text)
    with pytest.raises(ConfigError, match=message):
        load_settings(config_file=cfg, environ={"ARGUS_HOME": str(tmp_path)})


def test_missing_explicit_config_file_is_an_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_settings(config_file=tmp_path / "nope.toml", environ={})


def test_every_setting_is_documented() -> None:
    from pathlib import Path

    from argus.config import Settings

    doc = (Path(__file__).resolve().parent.parent / "docs" / "configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"| `{name}` | `ARGUS_{name.upper()}`" in doc, name

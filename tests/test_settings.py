"""Settings: defaults, the TOML file, environment overrides, and errors that say what to do."""

from pathlib import Path

import pytest

from diemcau.settings import SettingsError, env_overrides, load_settings


def test_defaults_put_state_under_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Does a bare environment give ./var as the data directory with SQLite inside it?"""
    monkeypatch.chdir(tmp_path)
    settings = load_settings({})
    assert settings.home == tmp_path / "var"
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'diemcau.sqlite'}"
    assert settings.hub.port == 8000
    assert settings.courses_dir == tmp_path / "var" / "courses"
    assert settings.transcripts_dir == tmp_path / "var" / "transcripts"


def test_content_folders_follow_the_data_directory_unless_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Is there one default for the content folders, inside the data directory wherever it is (the CLI and the demo
    read the same settings), while a folder that is set, relative or not, is taken as given?"""
    monkeypatch.chdir(tmp_path)
    moved = load_settings({"DIEMCAU_HOME": "/srv/diemcau"})
    assert moved.courses_dir == Path("/srv/diemcau/courses")
    assert moved.transcripts_dir == Path("/srv/diemcau/transcripts")
    assert moved.content.transcripts_dir == moved.transcripts_dir  # the resolved path, for whoever reads the section
    kept = load_settings({"DIEMCAU_CONTENT__COURSES_DIR": "noi-dung", "DIEMCAU_CONTENT__TRANSCRIPTS_DIR": "/data/bb"})
    assert (kept.courses_dir, kept.transcripts_dir) == (tmp_path / "noi-dung", Path("/data/bb"))


def test_file_and_environment_override(tmp_path: Path) -> None:
    """Does the environment win over the file, and the file over the defaults?"""
    home = tmp_path / "data"
    home.mkdir()
    (home / "diemcau.toml").write_text("[hub]\nport = 9000\napi_port = 9100\n", encoding="utf-8")
    settings = load_settings({"DIEMCAU_HOME": str(home), "DIEMCAU_HUB__PORT": "9001"})
    assert settings.hub.port == 9001
    assert settings.hub.api_port == 9100
    assert settings.home == home


def test_env_overrides_nest_by_double_underscore() -> None:
    """Are DIEMCAU_SECTION__KEY variables read as nested keys, and others ignored?"""
    assert env_overrides({"DIEMCAU_HUB__PORT": "1", "DIEMCAU_HOME": "x", "PATH": "/bin"}) == {"hub": {"port": "1"}}


def test_wrong_type_names_the_key(tmp_path: Path) -> None:
    """Does a wrong value name the key, the file and what to do?"""
    (tmp_path / "diemcau.toml").write_text('[hub]\nport = "eighty"\n', encoding="utf-8")
    with pytest.raises(SettingsError) as info:
        load_settings({"DIEMCAU_HOME": str(tmp_path)})
    message = str(info.value)
    assert "hub.port" in message and "diemcau.toml" in message and "Fix the value" in message


def test_unknown_key_lists_known_ones(tmp_path: Path) -> None:
    """Does a misspelt key get named, with the keys that do exist?"""
    (tmp_path / "diemcau.toml").write_text("[hub]\nprot = 8000\n", encoding="utf-8")
    with pytest.raises(SettingsError) as info:
        load_settings({"DIEMCAU_HOME": str(tmp_path)})
    assert "hub.prot" in str(info.value) and "port" in str(info.value)


def test_broken_toml_says_how_to_recover(tmp_path: Path) -> None:
    """Does a syntax error in the file give a message that says to fix or delete it?"""
    (tmp_path / "diemcau.toml").write_text("[hub\nport = 1", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings({"DIEMCAU_HOME": str(tmp_path)})


def test_out_of_range_env_override_is_rejected(tmp_path: Path) -> None:
    """Is an environment override validated like the file?"""
    with pytest.raises(SettingsError, match="hub.port"):
        load_settings({"DIEMCAU_HOME": str(tmp_path), "DIEMCAU_HUB__PORT": "70000"})


def test_trusted_proxies_from_the_environment_and_refused_when_not_addresses(tmp_path: Path) -> None:
    """Can the environment name trusted proxies as a comma-separated list, and does a typo stop start-up with the
    key named (rather than trusting nobody, or everybody)?"""
    settings = load_settings({"DIEMCAU_HOME": str(tmp_path), "DIEMCAU_AUTH__TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"})
    assert settings.auth.trusted_proxies == ["127.0.0.1", "10.0.0.0/8"]
    with pytest.raises(SettingsError) as info:
        load_settings({"DIEMCAU_HOME": str(tmp_path), "DIEMCAU_AUTH__TRUSTED_PROXIES": "locahost"})
    assert "auth.trusted_proxies" in str(info.value)


def test_login_throttle_must_remember_longer_than_it_waits(tmp_path: Path) -> None:
    """Is a throttle that would forget failures before their wait ends refused at start-up?"""
    environ = {"DIEMCAU_HOME": str(tmp_path), "DIEMCAU_AUTH__FORGET_AFTER_MINUTES": "5"}
    with pytest.raises(SettingsError) as info:
        load_settings(environ)
    assert "forget_after_minutes" in str(info.value)

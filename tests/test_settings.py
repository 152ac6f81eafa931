from pathlib import Path

import pytest

from storage.errors import ConfigError
from storage.settings import Settings, field_help, load_settings, mask_channel, mask_url


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("DOCKETWATCH_") or key == "DATABASE_URL":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def test_defaults() -> None:
    s = load_settings()
    assert s.database_url == "sqlite:///data/docketwatch.db"
    assert s.browser_executable == Path("/usr/bin/chromium")
    assert s.browser_headless_executable == Path("/usr/bin/chromium-headless-shell")
    assert s.browser_headed is False
    assert s.timezone == "America/Los_Angeles"
    assert "docketwatch" in s.user_agent


def test_environment_and_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "docketwatch.toml").write_text(
        'timezone = "America/Chicago"\nlog_level = "debug"\nbrowser_headed = true\n'
    )
    monkeypatch.setenv("DATABASE_URL", "postgresql://dw:s3cret@db.internal/dw")
    monkeypatch.setenv("DOCKETWATCH_TIMEZONE", "America/Denver")
    s = load_settings()
    assert s.timezone == "America/Denver"  # environment beats the file
    assert s.log_level == "DEBUG" and s.browser_headed is True
    assert s.masked()["database_url"] == "postgresql://dw:***@db.internal/dw"


def test_config_path_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    other = tmp_path / "etc.toml"
    other.write_text('user_agent = "dw-test"\n')
    monkeypatch.setenv("DOCKETWATCH_CONFIG", str(other))
    assert load_settings().user_agent == "dw-test"


@pytest.mark.parametrize(
    ("env", "value", "where"),
    [
        ("DOCKETWATCH_TIMEZONE", "Mars/Olympus", "timezone"),
        ("DOCKETWATCH_LOG_LEVEL", "LOUD", "log_level"),
        ("DOCKETWATCH_HEARTBEAT_SECONDS", "-1", "heartbeat_seconds"),
    ],
)
def test_bad_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, where: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError, match=where):
        load_settings()


def test_unknown_key_in_toml_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "docketwatch.toml").write_text('timezon = "America/Chicago"\n')
    with pytest.raises(ConfigError, match="timezon"):
        load_settings()


def test_every_setting_has_help() -> None:
    assert set(field_help()) == set(Settings.model_fields)
    assert all(len(text) > 15 for text in field_help().values())


def test_masking() -> None:
    assert mask_url("sqlite:///data/x.db") == "sqlite:///data/x.db"
    assert mask_channel("mailtos://user:hunter2@smtp.example.org?to=a@b.org") == (
        "mailtos://user:***@smtp.example.org?to=a@b.org"
    )
    masked = mask_channel("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general")
    assert "TIiajkdnlazkcOXrIdevi7FQ" not in masked and masked.startswith("slack://T1JJ***")


def test_a_renamed_setting_is_still_read_by_its_old_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from storage.settings import RENAMED

    assert RENAMED["locator_pace_seconds"] == "detainee_locator_pace_seconds"
    for old, new in RENAMED.items():  # every new name starts with its source's name
        assert new.split("_")[0] in {"acis", "detainee", "eoir", "detention", "court"}, new
        assert old not in Settings.model_fields
    (tmp_path / "docketwatch.toml").write_text(
        'foia_url = "http://127.0.0.1:1/old.zip"\nice_stats_url = "http://127.0.0.1:1/page"\n'
    )
    monkeypatch.setenv("DOCKETWATCH_LOCATOR_PACE_SECONDS", "7")
    monkeypatch.setenv("DOCKETWATCH_FOIA_COURTS", "adl,los")
    s = load_settings()
    assert s.detainee_locator_pace_seconds == 7
    assert s.eoir_foia_courts == ["ADL", "LOS"]
    assert s.eoir_foia_url == "http://127.0.0.1:1/old.zip"
    assert s.detention_stats_url == "http://127.0.0.1:1/page"
    # the new names win: the environment over the file, and in the file itself
    (tmp_path / "docketwatch.toml").write_text('eoir_foia_url = "http://127.0.0.1:1/new.zip"\n')
    monkeypatch.setenv("DOCKETWATCH_DETAINEE_LOCATOR_PACE_SECONDS", "9")
    monkeypatch.delenv("DOCKETWATCH_LOCATOR_PACE_SECONDS")
    s = load_settings()
    assert s.detainee_locator_pace_seconds == 9
    assert s.eoir_foia_url == "http://127.0.0.1:1/new.zip"


def test_sources_setting_is_checked_against_the_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    from storage.sources import SOURCES

    assert load_settings().sources == list(SOURCES)
    monkeypatch.setenv("DOCKETWATCH_SOURCES", "acis, custody")
    with pytest.raises(ConfigError, match="unknown source 'custody'"):
        load_settings()


def test_the_browser_launched_headless_is_the_headless_shell(tmp_path: Path) -> None:
    """Headless lookups launch Chromium's headless shell; headed ones, and headless ones where
    the shell is missing, the browser itself."""
    from spiders.browser import browser_binary, launch_options

    shell = tmp_path / "chromium-headless-shell"
    shell.write_text("")
    shell.chmod(0o755)
    s = Settings(browser_executable=Path("/usr/bin/chromium"), browser_headless_executable=shell)
    assert browser_binary(s, headed=False) == shell
    assert browser_binary(s, headed=True) == Path("/usr/bin/chromium")
    assert launch_options(s)["executable_path"] == str(shell) and launch_options(s)["headless"]
    headed = launch_options(s.model_copy(update={"browser_headed": True}))
    assert headed["executable_path"] == "/usr/bin/chromium" and headed["headless"] is False
    gone = s.model_copy(update={"browser_headless_executable": tmp_path / "missing"})
    assert browser_binary(gone, headed=False) == Path("/usr/bin/chromium")
    shell.chmod(0o644)  # there, but not a program
    assert browser_binary(s, headed=False) == Path("/usr/bin/chromium")

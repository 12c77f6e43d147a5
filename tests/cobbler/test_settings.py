"""Bad settings stop with one line naming the variable, its value and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from cobbler.settings import SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No COBBLER_ variables from the caller, and a working directory without a .env."""
    import os

    for name in [n for n in os.environ if n.startswith("COBBLER_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("COBBLER_K", "abc", "COBBLER_K='abc': must be a whole number between 1 and 50"),
        ("COBBLER_K", "0", "COBBLER_K='0': must be a whole number between 1 and 50"),
        ("COBBLER_PORT", "99999", "COBBLER_PORT='99999': must be a whole number between 1 and"),
        ("COBBLER_TEMPERATURE", "hot", "COBBLER_TEMPERATURE='hot': must be a number between 0"),
        ("COBBLER_MAX_FILE_MB", "-1", "COBBLER_MAX_FILE_MB='-1': must be a number, greater than"),
        ("COBBLER_N_CTX", "100", "COBBLER_N_CTX='100': must be a whole number, at least 512"),
        (
            "COBBLER_EMBEDDING_BACKEND",
            "gpu",
            "COBBLER_EMBEDDING_BACKEND='gpu': must be one of 'torch', 'onnx', 'onnx-int8'",
        ),
        ("COBBLER_ALLOW_OPEN", "maybe", "COBBLER_ALLOW_OPEN='maybe': must be true or false"),
        ("COBBLER_HOST", "", "COBBLER_HOST='': must be text, not empty"),
        (
            "COBBLER_CATALOG_COLUMNS",
            '{"title": ',
            """COBBLER_CATALOG_COLUMNS='{"title": ': must be a JSON object of names""",
        ),
    ],
)
def test_a_bad_value_names_the_variable_the_value_and_what_is_allowed(
    monkeypatch, name, value, message
):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("auth", ["adminsecret", ":secret", "admin:", ":"])
def test_a_malformed_login_stops_and_never_echoes_the_password(monkeypatch, auth):
    monkeypatch.setenv("COBBLER_AUTH", auth)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value) == (
        "COBBLER_AUTH (value not shown): must be user:password with both parts non-empty, or unset"
    )


def test_a_good_login_and_open_flag_are_read(monkeypatch):
    monkeypatch.setenv("COBBLER_AUTH", "admin:s3cret:with:colons")
    monkeypatch.setenv("COBBLER_ALLOW_OPEN", "true")
    settings = load_settings()
    assert settings.auth == "admin:s3cret:with:colons"
    assert settings.allow_open is True


def test_several_bad_values_are_all_named_on_one_line(monkeypatch):
    monkeypatch.setenv("COBBLER_K", "abc")
    monkeypatch.setenv("COBBLER_PORT", "0")
    message = str(pytest.raises(SettingsError, load_settings).value)
    assert "COBBLER_K='abc'" in message and "COBBLER_PORT='0'" in message
    assert "\n" not in message


def test_a_command_line_value_is_named_by_its_option():
    with pytest.raises(SettingsError) as caught:
        load_settings({"k": 0, "db_dir": None}, {"k": "--k"})
    assert str(caught.value) == "--k 0: must be a whole number between 1 and 50"


def test_a_bad_value_in_dot_env_is_named_with_its_value(tmp_path):
    (tmp_path / ".env").write_text("COBBLER_K=lots\n")
    with pytest.raises(SettingsError, match="^COBBLER_K='lots': must be a whole number"):
        load_settings()


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("COBBLER_AUTH admin:secret", "COBBLER_AUTH admin:secret"),  # no "="
        ("COBBLER_AUTH", "COBBLER_AUTH"),  # a name with no value
        ("'COBBLER_K=3", "'COBBLER_K=3"),  # an unclosed quote
    ],
)
def test_a_broken_dot_env_line_stops_naming_the_file_and_line(tmp_path, line, shown):
    (tmp_path / ".env").write_text(f"# the shop's settings\nCOBBLER_K=3\n\n{line}\n")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value) == f".env, line 4: '{shown}' is not KEY=VALUE or a # comment"


def test_a_good_dot_env_is_read(tmp_path):
    (tmp_path / ".env").write_text(
        '# comment\n\nCOBBLER_K=7\nexport COBBLER_PORT=8000\nCOBBLER_HOST="localhost"\n'
    )
    settings = load_settings()
    assert (settings.k, settings.port, settings.host) == (7, 8000, "localhost")

"""Settings: one source of defaults, the environment read when asked, loopback unless public."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot import paths
from bot.serve import Servers, last_lines, rasa_command
from bot.settings import (
    LOOPBACK,
    PICKED_PORTS,
    Settings,
    free_port,
    free_port_range,
    variables,
)


def test_every_setting_has_a_variable_a_default_and_a_help_line() -> None:
    for spec in variables():
        assert spec.metadata["variable"].isupper() and spec.metadata["help"], spec.name


def test_the_action_server_url_is_honoured() -> None:
    url = "http://actions.internal:9000/webhook"
    settings = Settings.from_environment({"ACTION_SERVER_URL": url})
    assert settings.environment()["ACTION_SERVER_URL"] == url


def test_the_action_server_url_follows_the_actions_port_by_default() -> None:
    settings = Settings.from_environment({"ACTIONS_PORT": "6123"})
    assert settings.environment()["ACTION_SERVER_URL"] == "http://127.0.0.1:6123/webhook"


def test_only_the_rasa_server_listens_on_every_interface_by_default() -> None:
    settings = Settings.from_environment({})
    assert settings.rasa_host == "0.0.0.0"
    assert settings.actions_host == LOOPBACK
    assert settings.web_host == LOOPBACK
    assert Servers(settings).actions.env["SANIC_HOST"] == LOOPBACK


def test_a_host_setting_opens_a_server_to_the_network() -> None:
    settings = Settings.from_environment({"ACTIONS_HOST": "0.0.0.0", "WEB_HOST": "0.0.0.0"})
    assert Servers(settings).actions.env["SANIC_HOST"] == "0.0.0.0"
    assert "0.0.0.0" in Servers(settings).web.command


def test_the_shell_does_not_leak_into_test_servers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RASA_API_TOKEN", "from-the-shell")
    monkeypatch.setenv("CORS_ORIGINS", "https://shell.example")
    monkeypatch.setenv("TRACKER_DB", "/somewhere/else.db")
    settings = Settings.on_loopback(tmp_path)
    assert settings.api_token == ""
    assert "https://shell.example" not in settings.cors_origins
    environment = settings.environment()
    assert "RASA_API_TOKEN" not in environment
    assert environment["TRACKER_DB"] == str(tmp_path / "tracker.db")
    assert "--enable-api" not in rasa_command(settings)


def test_the_environment_is_read_when_asked_not_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASA_PORT", "5999")
    assert Settings.from_environment().rasa_port == 5999
    monkeypatch.delenv("RASA_PORT")
    assert Settings.from_environment().rasa_port == 5005


@pytest.mark.parametrize("python", ["python3.9", "python3.11"])
def test_make_stops_at_once_without_python_3_10(python: str) -> None:
    finished = subprocess.run(
        ["make", "--no-print-directory", f"PYTHON={python}", "run"],
        cwd=paths.PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode != 0
    assert "Python 3.10 is needed" in finished.stderr
    assert f"'{python}'" in finished.stderr


@pytest.mark.e2e
def test_the_action_and_page_servers_listen_on_loopback_only(servers: Servers) -> None:
    listening = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True).stdout
    for port in (servers.settings.actions_port, servers.settings.web_port):
        local = [line.split()[3] for line in listening.splitlines() if f":{port} " in f"{line} "]
        assert local == [f"{LOOPBACK}:{port}"], (port, local)


def test_loopback_ports_are_distinct_and_outside_the_ephemeral_range() -> None:
    # An outgoing connection could take an ephemeral port before the server binds it.
    ports = [free_port() for _ in range(50)]
    first = free_port_range(4, taken=ports)
    block = list(range(first, first + 4))
    assert len(set(ports + block)) == 54
    assert all(port in PICKED_PORTS for port in ports + block)
    assert all(port < 32768 for port in ports + block)


def test_a_server_that_stops_while_starting_is_reported_with_its_log_end(tmp_path: Path) -> None:
    log = tmp_path / "console.log"
    log.write_text("".join(f"line {n}\n" for n in range(30)))
    assert last_lines(log, 2) == "line 28\nline 29"
    assert last_lines(tmp_path / "missing.log") == "(no log)"

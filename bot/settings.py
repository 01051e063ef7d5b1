"""Every setting of the servers, with its environment variable and its default, in one place.

``Settings.from_environment()`` reads the variables (``make run``); ``Settings.on_loopback()``
ignores them, so a developer's shell never leaks into the servers the tests start. The child
processes get the settings back as environment variables (:meth:`Settings.environment`), which
``endpoints.yml`` and the custom channels read.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import socket
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import paths

LOOPBACK = "127.0.0.1"


# Ports for servers started on loopback (tests, benches) are picked below Linux's ephemeral
# range (32768-60999). A port the kernel hands out for ``bind(0)`` comes from that range, which
# every outgoing connection uses too: one could take the port before the server binds it, and
# the server would then fail to start.
PICKED_PORTS = range(20000, 32768)
handed_out: set[int] = set()  # never handed out twice by one process


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    return free_port_range(1, ())


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def free_port_range(count: int, taken: Collection[int]) -> int:
    """The first of ``count`` consecutive loopback ports that are free and not in ``taken``."""
    while True:
        first = random.randrange(PICKED_PORTS.start, PICKED_PORTS.stop - count)
        ports = set(range(first, first + count))
        unused = ports.isdisjoint(taken) and ports.isdisjoint(handed_out)
        if unused and all(map(port_is_free, ports)):
            handed_out.update(ports)
            return first


def setting(variable: str, default: Any, help: str) -> Any:
    """A dataclass field read from ``variable``; ``help`` is shown in docs/operations.md."""
    return field(default=default, metadata={"variable": variable, "help": help})


class LoopbackUrl:
    """The loopback address of the server whose port is the setting ``port_field``."""

    def __init__(self, port_field: str) -> None:
        self.port_field = port_field

    def __get__(self, settings: object, owner: type | None = None) -> str:
        return f"http://{LOOPBACK}:{getattr(settings, self.port_field)}"


@dataclass
class Settings:
    """Where the servers listen and keep their state."""

    rasa_host: str = setting("RASA_HOST", "0.0.0.0", "interface of the Rasa server (public)")
    rasa_port: int = setting("RASA_PORT", 5005, "port of the Rasa server (REST channel)")
    actions_host: str = setting("ACTIONS_HOST", LOOPBACK, "interface of the action server")
    actions_port: int = setting("ACTIONS_PORT", 5055, "port of the action server")
    action_server_url: str = setting(
        "ACTION_SERVER_URL", "", "where Rasa calls the actions; default: the action server above"
    )
    web_host: str = setting("WEB_HOST", LOOPBACK, "interface of the widget's demo page")
    web_port: int = setting("WEB_PORT", 8080, "port of the widget's demo page")
    widget_server_url: str = setting(
        "WIDGET_SERVER_URL", "", "the Rasa address the widget calls; default localhost:RASA_PORT"
    )
    cors_origins: str = setting(
        "CORS_ORIGINS", "", "origins allowed to call Rasa, space-separated; default: demo page"
    )
    tracker_db: Path = setting("TRACKER_DB", paths.TRACKER_DB, "SQLite tracker store")
    model: Path = setting("RASA_MODEL", paths.MODEL, "the trained model")
    api_token: str = setting("RASA_API_TOKEN", "", "turns Rasa's HTTP API on, with this token")
    max_message_chars: int = setting(
        "MAX_MESSAGE_CHARS", 2000, "longest message Rasa reads; longer ones get a polite reply"
    )
    log_dir: Path = setting("LOG_DIR", paths.LOG_DIR, "the servers' log files")
    # --- The staff console (bot/staff/console, docs/staff.md) ---------------------------------
    staff_host: str = setting("STAFF_HOST", LOOPBACK, "interface of the staff console")
    staff_port: int = setting("STAFF_PORT", 8081, "port of the staff console")
    staff_token: str = setting(
        "STAFF_TOKEN", "", "the console's token; default: made at first start, var/staff-token"
    )
    # Serving at scale (bot/serving, docs/deployment.md).
    replicas: int = setting(
        "REPLICAS",
        os.cpu_count() or 1,
        "Rasa processes behind HAProxy, on RASA_PORT+1...; default: one per core",
    )
    redis_port: int = setting("REDIS_PORT", 6380, "port of the private Redis (lock store)")
    ticket_lock_lifetime: int = setting(
        "TICKET_LOCK_LIFETIME", 15, "seconds a crashed Rasa process can hold a conversation's lock"
    )
    postgres_port: int = setting(
        "POSTGRES_PORT", 5433, "port of make cluster's private PostgreSQL (tracker store)"
    )
    postgres_dir: Path = setting(
        "POSTGRES_DIR", paths.VAR_DIR / "postgres", "make cluster's PostgreSQL data folder"
    )
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_environment(cls, environment: Mapping[str, str] | None = None) -> Settings:
        """Settings from the environment variables, defaults for those not set."""
        environment = os.environ if environment is None else environment
        values: dict[str, Any] = {}
        for spec in variables():
            raw = environment.get(spec.metadata["variable"], "")
            if raw:
                convert: Any = type(spec.default)
                values[spec.name] = convert(raw)
        return cls(**values)

    @classmethod
    def on_loopback(cls, state_dir: Path, **overrides: Any) -> Settings:
        """Servers on free loopback ports, keeping their state in ``state_dir`` (tests, benches).

        The shell's settings are ignored, and optional channels stay off unless ``extra_env``
        switches one on.
        """
        extra_env = {"TELEGRAM_TOKEN": "", **overrides.pop("extra_env", {})}
        loopback: dict[str, Any] = {
            "rasa_host": LOOPBACK,
            "actions_port": free_port(),
            "web_port": free_port(),
            "staff_port": free_port(),
            "redis_port": free_port(),
            "postgres_port": free_port(),
            "tracker_db": state_dir / "tracker.db",
            "log_dir": state_dir / "log",
            "postgres_dir": state_dir / "postgres",
            # One Rasa process: the tests start many servers on a shared machine.
            "replicas": 1,
        }
        loopback.update(overrides)
        if "rasa_port" not in loopback:
            # The balancer's port, then one for each replica.
            others = {value for name, value in loopback.items() if name.endswith("_port")}
            loopback["rasa_port"] = free_port_range(loopback["replicas"] + 1, others)
        return cls(**loopback, extra_env=extra_env)

    def __post_init__(self) -> None:
        # Derived from the ports, so that changing WEB_PORT or RASA_PORT alone is enough.
        if not self.cors_origins:
            self.cors_origins = f"http://localhost:{self.web_port} http://127.0.0.1:{self.web_port}"
        if not self.widget_server_url:
            self.widget_server_url = f"http://localhost:{self.rasa_port}"
        if not self.action_server_url:
            self.action_server_url = f"{self.actions_url}/webhook"

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes``; derived values follow unless given."""
        return dataclasses.replace(self, **changes)

    rasa_url = LoopbackUrl("rasa_port")
    web_url = LoopbackUrl("web_port")
    actions_url = LoopbackUrl("actions_port")
    staff_url = LoopbackUrl("staff_port")

    @property
    def staff_token_file(self) -> Path:
        """Where the console keeps the token it made when ``STAFF_TOKEN`` is not set."""
        return self.tracker_db.parent / "staff-token"

    @property
    def credentials_file(self) -> Path:
        """The credentials Rasa runs with, written by ``bot.serve`` at start."""
        return self.tracker_db.parent / "credentials.yml"

    def environment(self) -> dict[str, str]:
        """The environment of the servers' processes: these settings, not the shell's."""
        inherited = {
            name: value for name, value in os.environ.items() if name not in variable_names()
        }
        own = {
            spec.metadata["variable"]: str(getattr(self, spec.name))
            for spec in variables()
            # Secrets go only to the process that needs them, never inherited.
            if spec.name not in SECRETS
        }
        return {
            **inherited,
            **own,
            "RASA_TELEMETRY_ENABLED": "false",
            **{name: os.environ.get(name, default) for name, default in RUNTIME_DEFAULTS.items()},
            # Sanic's own errors (404, 405, 413, ...) as JSON, like the REST channel's.
            "SANIC_FALLBACK_ERROR_FORMAT": "json",
            **self.extra_env,
        }


# Variables of the servers' libraries, which the shell may override. One BLAS thread per process:
# each Rasa replica is a process of its own. In-process, OpenBLAS's default threads made a
# message cost 30 ms of CPU instead of 17; in the server no difference was measured
# (docs/deployment.md).
RUNTIME_DEFAULTS = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
}

# The API token is passed on Rasa's command line; the staff token only to the console.
SECRETS = {"api_token", "staff_token"}


def variables() -> list[dataclasses.Field[Any]]:
    """The fields that have an environment variable."""
    return [spec for spec in dataclasses.fields(Settings) if "variable" in spec.metadata]


def variable_names() -> set[str]:
    return {spec.metadata["variable"] for spec in variables()}


def add_tracker_db_option(command: argparse.ArgumentParser, help: str) -> None:
    """``--db``: the SQLite tracker store a command works on; by default ``TRACKER_DB``'s."""
    default = Settings.from_environment().tracker_db
    command.add_argument("--db", type=Path, default=default, help=f"{help} (default: {default})")


COMMAND = "settings"
HELP = "list every server setting: its variable, its value now and its default"


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The ``settings`` command has no options."""


def run(arguments: argparse.Namespace) -> int:
    """Print one line per setting, as a Markdown table."""
    current = Settings.from_environment()
    print("| variable | value now | default | what |\n| --- | --- | --- | --- |")
    for spec in variables():
        default = spec.default
        if isinstance(default, Path):
            default = default.relative_to(paths.PROJECT_ROOT)
        value = getattr(current, spec.name)
        shown = "(set)" if spec.name in SECRETS and value else value
        print(f"| `{spec.metadata['variable']}` | {shown} | {default} | {spec.metadata['help']} |")
    return 0

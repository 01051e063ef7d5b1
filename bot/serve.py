"""Start the assistant's servers together, and stop them together.

``make run`` calls ``python -m bot.serve``; the end-to-end tests use :class:`Servers` the same
way, on free loopback ports. Each server is Rasa's own (``python -m rasa_sdk``, which
``rasa run actions`` wraps, and ``rasa run``); this module only starts them, waits until they
answer, and stops them.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot import PROJECT_ROOT
from bot.article import load_yaml

DEFAULT_MODEL = PROJECT_ROOT / "models" / "mbc.tar.gz"
LOG_DIR = PROJECT_ROOT / "var" / "log"
START_TIMEOUT_S = 180.0
CREDENTIALS = PROJECT_ROOT / "credentials.yml"
# Channels that are off unless an environment variable is set: variable -> their credentials.
OPTIONAL_CHANNELS = {"TELEGRAM_TOKEN": PROJECT_ROOT / "credentials.telegram.yml"}


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def is_answering(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status < 500)
    except (urllib.error.URLError, OSError):
        return False


def check_tracker_store(path: Path) -> None:
    """Exit with a message naming ``path`` unless a SQLite tracker store can be written there.

    Creates the parent directory if it is missing. ``rasa run`` itself starts without a usable
    tracker store: it logs an error for every message and keeps conversations in memory only.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(path, isolation_level=None)) as connection:
            connection.execute("BEGIN IMMEDIATE")  # takes the write lock, as Rasa will
            connection.execute("ROLLBACK")
    except (OSError, sqlite3.Error) as error:
        raise SystemExit(
            f"Cannot write the tracker store {path}: {error}. "
            "Set TRACKER_DB to a SQLite file in a writable directory."
        ) from error


@dataclass
class Settings:
    """Where the servers listen and keep their state; every field has an env variable."""

    rasa_port: int = int(os.environ.get("RASA_PORT", "5005"))
    actions_port: int = int(os.environ.get("ACTIONS_PORT", "5055"))
    host: str = os.environ.get("RASA_HOST", "0.0.0.0")
    tracker_db: Path = Path(os.environ.get("TRACKER_DB", str(PROJECT_ROOT / "var" / "tracker.db")))
    model: Path = Path(os.environ.get("RASA_MODEL", str(DEFAULT_MODEL)))
    web_port: int = int(os.environ.get("WEB_PORT", "8080"))
    cors_origins: str = os.environ.get("CORS_ORIGINS", "")
    widget_server_url: str = os.environ.get("WIDGET_SERVER_URL", "")
    api_token: str = os.environ.get("RASA_API_TOKEN", "")
    log_dir: Path = LOG_DIR
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def on_loopback(cls, state_dir: Path, **overrides: Any) -> Settings:
        """Servers on free loopback ports, keeping their state in ``state_dir`` (tests, benches).

        Optional channels stay off unless ``extra_env`` switches one on, whatever the shell says.
        """
        extra_env = {"TELEGRAM_TOKEN": "", **overrides.pop("extra_env", {})}
        return cls(
            rasa_port=free_port(),
            actions_port=free_port(),
            web_port=free_port(),
            host="127.0.0.1",
            tracker_db=state_dir / "tracker.db",
            log_dir=state_dir / "log",
            extra_env=extra_env,
            **overrides,
        )

    def __post_init__(self) -> None:
        # Derived from the ports, so that changing WEB_PORT or RASA_PORT alone is enough.
        if not self.cors_origins:
            self.cors_origins = f"http://localhost:{self.web_port} http://127.0.0.1:{self.web_port}"
        if not self.widget_server_url:
            self.widget_server_url = f"http://localhost:{self.rasa_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def credentials_file(self) -> Path:
        """The credentials Rasa runs with, written by :func:`write_credentials` at start."""
        return self.tracker_db.parent / "credentials.yml"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    def environment(self) -> dict[str, str]:
        """What endpoints.yml reads, plus what keeps Rasa quiet and offline."""
        return {
            **os.environ,
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3"),
            "ACTION_SERVER_URL": f"{self.actions_url}/webhook",
            "TRACKER_DB": str(self.tracker_db),
            # Sanic's own errors (404, 405, 413, ...) as JSON, like the REST channel's.
            "SANIC_FALLBACK_ERROR_FORMAT": "json",
            **self.extra_env,
        }


def rasa_command(settings: Settings) -> list[str]:
    command = [
        str(Path(sys.executable).with_name("rasa")),
        "run",
        "--model",
        str(settings.model),
        "--interface",
        settings.host,
        "--port",
        str(settings.rasa_port),
        "--credentials",
        str(settings.credentials_file),
        "--endpoints",
        "endpoints.yml",
        "--cors",
        *settings.cors_origins.split(),
    ]
    if settings.api_token:
        command += ["--enable-api", "--auth-token", settings.api_token]
    return command


def actions_command(settings: Settings) -> list[str]:
    # rasa-sdk's own entry point, which `rasa run actions` wraps: it starts the same server
    # without importing Rasa and TensorFlow, in a tenth of the memory and time.
    port = str(settings.actions_port)
    return [sys.executable, "-m", "rasa_sdk", "--port", port, "--actions", "actions"]


def web_command(settings: Settings) -> list[str]:
    """The static server for the chat widget and its demo page (bot/web)."""
    return [
        sys.executable,
        "-m",
        "bot.web.server",
        "--port",
        str(settings.web_port),
        "--bind",
        settings.host,
        "--rasa-url",
        settings.widget_server_url,
    ]


def write_credentials(settings: Settings) -> Path:
    """Write credentials.yml plus the file of each optional channel whose variable is set.

    Rasa fails on a ``${VAR}`` that is not set, so a channel's credentials join only when its
    variable is set. The placeholders are kept as they are: Rasa fills them in from the
    environment, and no secret is written to disk.
    """
    environment = settings.environment()
    credentials: dict[str, Any] = load_yaml(CREDENTIALS) or {}
    for variable, channel_file in OPTIONAL_CHANNELS.items():
        if environment.get(variable):
            credentials.update(load_yaml(channel_file) or {})
    settings.credentials_file.parent.mkdir(parents=True, exist_ok=True)
    settings.credentials_file.write_text(
        "# Written by bot/serve.py from credentials*.yml at each start; edit those instead.\n"
        + yaml.safe_dump(credentials, sort_keys=False),
        encoding="utf-8",
    )
    return settings.credentials_file


@dataclass
class Server:
    """One child process, its log file, and the URL that answers once it is ready."""

    name: str
    command: Sequence[str]
    ready_url: str
    process: subprocess.Popen[bytes] | None = None

    def start(self, settings: Settings) -> None:
        settings.log_dir.mkdir(parents=True, exist_ok=True)
        log = (settings.log_dir / f"{self.name}.log").open("ab")
        self.process = subprocess.Popen(
            self.command,
            cwd=PROJECT_ROOT,
            env=settings.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if not self.is_running():
            return
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class Servers:
    """The action server, the Rasa server and the widget's web server, started as one."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.actions = Server(
            "actions", actions_command(self.settings), f"{self.settings.actions_url}/health"
        )
        self.rasa = Server("rasa", rasa_command(self.settings), f"{self.settings.rasa_url}/")
        self.web = Server("web", web_command(self.settings), f"{self.settings.web_url}/widget.js")

    @property
    def all(self) -> list[Server]:
        return [self.actions, self.rasa, self.web]

    def start(self, timeout_s: float = START_TIMEOUT_S) -> None:
        if not self.settings.model.exists():
            raise SystemExit(f"No trained model at {self.settings.model}: run `make train`.")
        check_tracker_store(self.settings.tracker_db)
        write_credentials(self.settings)
        for server in self.all:
            server.start(self.settings)
        for server in self.all:
            self.wait_until_ready(server, timeout_s)

    def wait_until_ready(self, server: Server, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not is_answering(server.ready_url):
            if not server.is_running():
                self.stop()
                log = self.settings.log_dir / f"{server.name}.log"
                raise RuntimeError(f"The {server.name} server stopped while starting; see {log}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"The {server.name} server did not answer in {timeout_s:.0f} s")
            time.sleep(0.5)

    def stop(self) -> None:
        for server in reversed(self.all):
            server.stop()


@contextmanager
def running(settings: Settings | None = None) -> Iterator[Servers]:
    """Servers that are up inside the ``with`` block and stopped after it."""
    servers = Servers(settings)
    servers.start()
    try:
        yield servers
    finally:
        servers.stop()


def main() -> None:
    settings = Settings()
    servers = Servers(settings)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("Starting the action server and the Rasa server (about 15 s) ...", flush=True)
    try:
        servers.start()
        print(
            f"\nThe assistant is ready.\n"
            f"  REST channel: POST {settings.rasa_url}/webhooks/rest/webhook\n"
            f'    curl -s {settings.rasa_url}/webhooks/rest/webhook -H "Content-Type: '
            f'application/json" -d \'{{"sender": "me", "message": "where does it spread?"}}\'\n'
            f"  Chat widget demo page: http://localhost:{settings.web_port}/\n"
            f"  Logs: {settings.log_dir}\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        while all(server.is_running() for server in servers.all):
            time.sleep(1)
        print("A server stopped; see the logs. Stopping the others.", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
    finally:
        servers.stop()


if __name__ == "__main__":
    main()

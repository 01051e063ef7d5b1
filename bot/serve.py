"""Start the assistant's servers together, and stop them together.

``make run`` calls ``python -m bot.serve``; the end-to-end tests use :class:`Servers` the same
way, on free loopback ports. Each server is Rasa's own (``python -m rasa_sdk``, which
``rasa run actions`` wraps, and ``rasa run``); this module only starts them, waits until they
answer, and stops them.
"""

from __future__ import annotations

import os
import signal
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

from bot import paths
from bot.article import load_yaml
from bot.settings import Settings
from bot.staff.console.token import staff_token, token_source

START_TIMEOUT_S = 180.0
# Channels that are off unless an environment variable is set: variable -> their credentials.
OPTIONAL_CHANNELS = {"TELEGRAM_TOKEN": paths.TELEGRAM_CREDENTIALS}


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


def rasa_command(settings: Settings) -> list[str]:
    command = [
        str(Path(sys.executable).with_name("rasa")),
        "run",
        "--model",
        str(settings.model),
        "--interface",
        settings.rasa_host,
        "--port",
        str(settings.rasa_port),
        "--credentials",
        str(settings.credentials_file),
        "--endpoints",
        str(paths.ENDPOINTS),
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
        settings.web_host,
        "--rasa-url",
        settings.widget_server_url,
    ]


def console_command(settings: Settings) -> list[str]:
    """The staff console (bot/staff/console); it reads its settings from the environment."""
    return [sys.executable, "-m", "bot.staff.console"]


def write_credentials(settings: Settings) -> Path:
    """Write credentials.yml plus the file of each optional channel whose variable is set.

    Rasa fails on a ``${VAR}`` that is not set, so a channel's credentials join only when its
    variable is set. The placeholders are kept as they are: Rasa fills them in from the
    environment, and no secret is written to disk.
    """
    environment = settings.environment()
    credentials: dict[str, Any] = load_yaml(paths.CREDENTIALS) or {}
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
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def start(self, settings: Settings) -> None:
        settings.log_dir.mkdir(parents=True, exist_ok=True)
        # The child keeps its own copy of the file descriptor; ours is closed at once.
        with (settings.log_dir / f"{self.name}.log").open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=paths.PROJECT_ROOT,
                env={**settings.environment(), **self.env},
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


def actions_server(settings: Settings) -> Server:
    return Server(
        "actions",
        actions_command(settings),
        f"{settings.actions_url}/health",
        # rasa-sdk reads its interface from SANIC_HOST only.
        env={"SANIC_HOST": settings.actions_host},
    )


class Servers:
    """The action server, the Rasa server and the widget's web server, started as one."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_environment()
        self.actions = actions_server(self.settings)
        self.rasa = Server("rasa", rasa_command(self.settings), f"{self.settings.rasa_url}/")
        self.web = Server("web", web_command(self.settings), f"{self.settings.web_url}/widget.js")
        self.console = Server(
            "console",
            console_command(self.settings),
            f"{self.settings.staff_url}/health",
            env={"STAFF_TOKEN": staff_token(self.settings)},
        )

    @property
    def all(self) -> list[Server]:
        return [self.actions, self.rasa, self.web, self.console]

    def start(self, timeout_s: float = START_TIMEOUT_S) -> None:
        if not self.settings.model.exists():
            raise SystemExit(f"No trained model at {self.settings.model}: run `make train`.")
        check_tracker_store(self.settings.tracker_db)
        write_credentials(self.settings)
        try:
            for server in self.all:
                server.start(self.settings)
            for server in self.all:
                self.wait_until_ready(server, timeout_s)
        except BaseException:
            self.stop()  # none of those already started is left behind
            raise

    def wait_until_ready(self, server: Server, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not is_answering(server.ready_url):
            if not server.is_running():
                log = self.settings.log_dir / f"{server.name}.log"
                raise RuntimeError(f"The {server.name} server stopped while starting; see {log}")
            if time.monotonic() > deadline:
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


def shell(settings: Settings) -> int:
    """``make shell``: the action server in the background, ``rasa shell`` in the terminal."""
    actions = actions_server(settings)
    actions.start(settings)
    try:
        command = [str(Path(sys.executable).with_name("rasa")), "shell", "--model"]
        command += [str(settings.model), "--endpoints", str(paths.ENDPOINTS)]
        return subprocess.call(command, cwd=paths.PROJECT_ROOT, env=settings.environment())
    finally:
        actions.stop()


def serve(settings: Settings) -> None:
    """``make run``: every server, until Ctrl-C or until one of them stops."""
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
            f"  Staff console: http://localhost:{settings.staff_port}/ (token "
            f"{token_source(settings)}); signed in at once with\n"
            f"    http://localhost:{settings.staff_port}/#token={staff_token(settings)}\n"
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


def main(argv: list[str] | None = None) -> None:
    settings = Settings.from_environment()
    if argv is None:
        argv = sys.argv[1:]
    if argv == ["--shell"]:
        sys.exit(shell(settings))
    serve(settings)


if __name__ == "__main__":
    main()

"""Start the assistant's servers together, and stop them together.

``make run`` calls ``python -m bot.serve``; the end-to-end tests use :class:`Servers` the same
way, on free loopback ports. Each server is Rasa's own command (``rasa run actions``,
``rasa run``); this module only starts them, waits until they answer, and stops them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bot import PROJECT_ROOT

DEFAULT_MODEL = PROJECT_ROOT / "models" / "mbc.tar.gz"
LOG_DIR = PROJECT_ROOT / "var" / "log"
START_TIMEOUT_S = 180.0


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


@dataclass
class Settings:
    """Where the servers listen and keep their state; every field has an env variable."""

    rasa_port: int = int(os.environ.get("RASA_PORT", "5005"))
    actions_port: int = int(os.environ.get("ACTIONS_PORT", "5055"))
    host: str = os.environ.get("RASA_HOST", "0.0.0.0")
    tracker_db: Path = Path(os.environ.get("TRACKER_DB", str(PROJECT_ROOT / "var" / "tracker.db")))
    model: Path = Path(os.environ.get("RASA_MODEL", str(DEFAULT_MODEL)))
    cors_origins: str = os.environ.get("CORS_ORIGINS", "http://localhost:8080")
    api_token: str = os.environ.get("RASA_API_TOKEN", "")
    log_dir: Path = LOG_DIR
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

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
        "credentials.yml",
        "--endpoints",
        "endpoints.yml",
        "--cors",
        *settings.cors_origins.split(),
    ]
    if settings.api_token:
        command += ["--enable-api", "--auth-token", settings.api_token]
    return command


def actions_command(settings: Settings) -> list[str]:
    rasa = str(Path(sys.executable).with_name("rasa"))
    return [rasa, "run", "actions", "--port", str(settings.actions_port), "--actions", "actions"]


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
    """The action server and the Rasa server, started and stopped as one."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.actions = Server(
            "actions", actions_command(self.settings), f"{self.settings.actions_url}/health"
        )
        self.rasa = Server("rasa", rasa_command(self.settings), f"{self.settings.rasa_url}/")

    @property
    def all(self) -> list[Server]:
        return [self.actions, self.rasa]

    def start(self, timeout_s: float = START_TIMEOUT_S) -> None:
        if not self.settings.model.exists():
            raise SystemExit(f"No trained model at {self.settings.model}: run `make train`.")
        self.settings.tracker_db.parent.mkdir(parents=True, exist_ok=True)
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
    print("Starting the action server and the Rasa server (about 35 s) ...", flush=True)
    try:
        servers.start()
        print(
            f"\nThe assistant is ready.\n"
            f"  REST channel: POST {settings.rasa_url}/webhooks/rest/webhook\n"
            f'    curl -s {settings.rasa_url}/webhooks/rest/webhook -H "Content-Type: '
            f'application/json" -d \'{{"sender": "me", "message": "where does it spread?"}}\'\n'
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

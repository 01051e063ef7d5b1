"""Start the assistant's servers together, and stop them together.

``make run`` calls ``python -m bot.serve``; the end-to-end tests use :class:`Servers` the same
way, on free loopback ports. Each server is Rasa's own (``python -m rasa_sdk``, which
``rasa run actions`` wraps, and ``rasa run``, one process per core), plus the private
``redis-server`` their lock store needs (bot/serving/stores.py) and HAProxy in front of the
Rasa processes (bot/serving/balancer.py); this module only starts them, waits until they
answer, and stops them. ``make cluster``'s layout is :class:`bot.serving.cluster.Cluster`.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import yaml

from bot import paths
from bot.article import load_yaml
from bot.serving.balancer import balancer_server, replica_ports, write_haproxy_config
from bot.serving.processes import Server
from bot.serving.stores import redis_dir, redis_server
from bot.settings import LOOPBACK, Settings
from bot.staff.console.token import staff_token, token_source

START_TIMEOUT_S = 180.0
# Channels that are off unless an environment variable is set: variable -> their credentials.
OPTIONAL_CHANNELS = {"TELEGRAM_TOKEN": paths.TELEGRAM_CREDENTIALS}


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
            # Kept by the file: readers never wait for the writer (several Rasa processes).
            connection.execute("PRAGMA journal_mode = WAL")
    except (OSError, sqlite3.Error) as error:
        raise SystemExit(
            f"Cannot write the tracker store {path}: {error}. "
            "Set TRACKER_DB to a SQLite file in a writable directory."
        ) from error


def rasa_command(
    settings: Settings, endpoints: Path = paths.ENDPOINTS, port: int | None = None
) -> list[str]:
    """``rasa run`` on loopback: a replica at ``port`` behind the balancer, or alone on
    RASA_PORT (the tests of a Rasa server's own start)."""
    command = [
        str(Path(sys.executable).with_name("rasa")),
        "run",
        "--model",
        str(settings.model),
        "--interface",
        LOOPBACK,
        "--port",
        str(port or settings.rasa_port),
        "--credentials",
        str(settings.credentials_file),
        "--endpoints",
        str(endpoints),
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


def actions_server(settings: Settings) -> Server:
    return Server(
        "actions",
        actions_command(settings),
        f"{settings.actions_url}/health",
        # rasa-sdk reads its interface from SANIC_HOST only.
        env={"SANIC_HOST": settings.actions_host},
    )


def last_lines(log: Path, count: int = 20) -> str:
    """The end of a server's log, for an error raised before a temporary folder is gone."""
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-count:])
    except OSError:
        return "(no log)"


class Servers:
    """Redis (the lock store), the action server, the Rasa replicas, the balancer in front of
    them (``rasa``: where the REST channel is), the widget's web server and the staff console.

    They start in stages, each once the one before answers: the Rasa servers check Redis as
    they start.
    """

    endpoints = paths.ENDPOINTS

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_environment()
        self.redis = redis_server(self.settings)
        self.actions = actions_server(self.settings)
        self.replicas = [
            self.replica(number, port)
            for number, port in enumerate(replica_ports(self.settings), start=1)
        ]
        self.rasa = balancer_server(self.settings)
        self.web = Server("web", web_command(self.settings), f"{self.settings.web_url}/widget.js")
        self.console = Server(
            "console",
            console_command(self.settings),
            f"{self.settings.staff_url}/health",
        )

    def replica(self, number: int, port: int) -> Server:
        """One Rasa server of one process: the replicas, not Sanic's workers, use the cores."""
        command = rasa_command(self.settings, self.endpoints, port)
        env = {"SANIC_WORKERS": "1", **self.replica_env()}
        return Server(f"rasa-{number}", command, f"http://{LOOPBACK}:{port}/", env)

    def replica_env(self) -> dict[str, str]:
        return {}

    @property
    def stages(self) -> list[list[Server]]:
        return [
            [self.redis],
            [self.actions, *self.replicas, self.web, self.console],
            [self.rasa],
        ]

    @property
    def all(self) -> list[Server]:
        return [server for stage in self.stages for server in stage]

    def prepare(self) -> None:
        """What must exist before the servers start."""
        if not self.settings.model.exists():
            raise SystemExit(f"No trained model at {self.settings.model}: run `make train`.")
        check_tracker_store(self.settings.tracker_db)
        redis_dir(self.settings).mkdir(exist_ok=True)
        write_credentials(self.settings)
        write_haproxy_config(self.settings)
        # Made here, not when the servers are described, so that nothing is written before
        # the tracker store's folder has been checked.
        self.console.env["STAFF_TOKEN"] = staff_token(self.settings)

    def start(self, timeout_s: float = START_TIMEOUT_S) -> None:
        self.prepare()
        try:
            for stage in self.stages:
                for server in stage:
                    server.start(self.settings)
                for server in stage:
                    self.wait_until_ready(server, timeout_s)
        except BaseException:
            self.stop()  # none of those already started is left behind
            raise

    def wait_until_ready(self, server: Server, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not server.is_ready():
            if not server.is_running():
                log = self.settings.log_dir / f"{server.name}.log"
                raise RuntimeError(
                    f"The {server.name} server stopped while starting; see {log}, "
                    f"which ends:\n{last_lines(log)}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"The {server.name} server did not answer in {timeout_s:.0f} s")
            time.sleep(0.5)

    def stop(self) -> None:
        for server in reversed(self.all):
            server.stop()

    def ready_message(self) -> str:
        rasa_url = self.settings.rasa_url
        return (
            f"\nThe assistant is ready.\n"
            f"  REST channel: POST {rasa_url}/webhooks/rest/webhook\n"
            f'    curl -s {rasa_url}/webhooks/rest/webhook -H "Content-Type: '
            f'application/json" -d \'{{"sender": "me", "message": "where does it spread?"}}\'\n'
            f"  Chat widget demo page: http://localhost:{self.settings.web_port}/\n"
            + "".join(f"  {line}\n" for line in self.layout())
            + f"  Logs: {self.settings.log_dir}\nPress Ctrl-C to stop."
        )

    def layout(self) -> list[str]:
        """The staff console, and how the Rasa server runs, for the ready message."""
        staff_url = f"http://localhost:{self.settings.staff_port}/"
        return [
            f"Staff console: {staff_url} (token {token_source(self.settings)}); signed in at once "
            f"with\n    {staff_url}#token={staff_token(self.settings)}",
            f"Rasa replicas behind HAProxy (REPLICAS): {self.replica_addresses()}",
            f"Lock store: Redis at {LOOPBACK}:{self.settings.redis_port}",
        ]

    def replica_addresses(self) -> str:
        return ", ".join(f"{LOOPBACK}:{port}" for port in replica_ports(self.settings))


@contextmanager
def running(settings: Settings | None = None, layout: type[Servers] = Servers) -> Iterator[Servers]:
    """Servers (or another ``layout``, such as a cluster) up inside the ``with`` block."""
    servers = layout(settings)
    servers.start()
    try:
        yield servers
    finally:
        servers.stop()


def shell(settings: Settings) -> int:
    """``make shell``: Redis and the action server in the background, ``rasa shell`` in front."""
    helpers = [redis_server(settings), actions_server(settings)]
    redis_dir(settings).mkdir(parents=True, exist_ok=True)
    for helper in helpers:
        helper.start(settings)
    try:
        command = [str(Path(sys.executable).with_name("rasa")), "shell", "--model"]
        command += [str(settings.model), "--endpoints", str(paths.ENDPOINTS)]
        return subprocess.call(command, cwd=paths.PROJECT_ROOT, env=settings.environment())
    finally:
        for helper in reversed(helpers):
            helper.stop()


def serve(servers: Servers) -> None:
    """``make run`` (and ``make cluster``): every server, until Ctrl-C or until one stops."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("Starting the servers (about 20 s) ...", flush=True)
    try:
        servers.start()
        print(servers.ready_message(), flush=True)
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
    serve(Servers(settings))


if __name__ == "__main__":
    main()

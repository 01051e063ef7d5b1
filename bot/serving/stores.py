"""Private Redis and PostgreSQL servers: Debian's binaries, run as child processes.

Each listens on loopback only, on its own port (``REDIS_PORT``, ``POSTGRES_PORT``), and keeps
its files under ``var/``: Redis in ``var/redis`` (the lock store needs no persistence),
PostgreSQL in ``POSTGRES_DIR`` (``var/postgres``, created by ``initdb`` at the first start,
with a generated password in ``var/postgres.password``). PostgreSQL refuses to run as root, so
as root its programs run as the ``postgres`` user, which owns its data folder.
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import psycopg2
import redis

from bot.serving.processes import Server
from bot.settings import LOOPBACK, Settings

POSTGRES_USER = "rasa"
POSTGRES_DATABASE = "rasa"
POSTGRES_SYSTEM_USER = "postgres"
POSTGRES_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
DEBIAN_PACKAGES = "redis-server postgresql haproxy"


class StoreUnavailable(RuntimeError):
    """A store cannot be started or does not answer; the message names it."""


def executable(name: str, folders: Sequence[Path] = ()) -> str:
    """The path of the program ``name``, or an error saying how to install it."""
    for folder in folders:
        if (folder / name).is_file():
            return str(folder / name)
    found = shutil.which(name)
    if not found:
        raise StoreUnavailable(
            f"{name} is not installed: run `make serving-packages` (Debian: {DEBIAN_PACKAGES})."
        )
    return found


def redis_answers(port: int) -> bool:
    try:
        return bool(redis.Redis(host=LOOPBACK, port=port, socket_timeout=1).ping())
    except redis.exceptions.RedisError:
        return False


def redis_dir(settings: Settings) -> Path:
    return settings.tracker_db.parent / "redis"


def redis_server(settings: Settings) -> Server:
    """The lock store's Redis: loopback, no snapshots, no append-only file."""
    command = [executable("redis-server"), "--port", str(settings.redis_port), "--bind", LOOPBACK]
    command += ["--dir", str(redis_dir(settings)), "--save", "", "--appendonly", "no"]
    command += ["--daemonize", "no"]
    port = settings.redis_port
    return Server("redis", command, f"redis://{LOOPBACK}:{port}", probe=lambda: redis_answers(port))


def password_file(settings: Settings) -> Path:
    return settings.postgres_dir.with_suffix(".password")


def postgres_password(settings: Settings) -> str:
    """The password of PostgreSQL's ``rasa`` user, generated at the first start."""
    path = password_file(settings)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(24), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def postgres_system_user() -> str | None:
    """The user PostgreSQL's programs run as: ``postgres`` if we are root, else ourselves."""
    return POSTGRES_SYSTEM_USER if os.geteuid() == 0 else None


def give_to_postgres_user(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, POSTGRES_SYSTEM_USER, POSTGRES_SYSTEM_USER)


def initialise_postgres(settings: Settings) -> None:
    """``initdb`` into ``POSTGRES_DIR`` unless it holds a database already."""
    data = settings.postgres_dir
    if (data / "PG_VERSION").exists():
        return
    data.mkdir(parents=True, exist_ok=True, mode=0o700)
    give_to_postgres_user(data)
    with tempfile.NamedTemporaryFile("w", prefix="mbc-pw-", encoding="utf-8") as secret:
        secret.write(postgres_password(settings))
        secret.flush()
        give_to_postgres_user(Path(secret.name))
        initdb = [executable("initdb", POSTGRES_BIN_DIRS), "-D", str(data), "-U", POSTGRES_USER]
        initdb += ["--pwfile", secret.name, "--auth=scram-sha-256", "-E", "UTF8"]
        user = postgres_system_user()
        done = subprocess.run(initdb, capture_output=True, text=True, user=user, group=user)
    if done.returncode != 0:
        raise StoreUnavailable(f"initdb of PostgreSQL in {data} failed:\n{done.stderr}")


def postgres_answers(settings: Settings, password: str) -> bool:
    try:
        psycopg2.connect(
            host=LOOPBACK,
            port=settings.postgres_port,
            user=POSTGRES_USER,
            password=password,
            dbname="postgres",
            connect_timeout=1,
        ).close()
        return True
    except psycopg2.OperationalError:
        return False


def postgres_server(settings: Settings) -> Server:
    """The tracker store's PostgreSQL: loopback TCP only, no Unix socket.

    ``initialise_postgres`` must have run before it starts.
    """
    password_of = functools.partial(postgres_password, settings)
    command = [executable("postgres", POSTGRES_BIN_DIRS), "-D", str(settings.postgres_dir)]
    command += ["-p", str(settings.postgres_port), "-c", f"listen_addresses={LOOPBACK}"]
    command += ["-c", "unix_socket_directories="]
    return Server(
        "postgres",
        command,
        f"postgresql://{LOOPBACK}:{settings.postgres_port}",
        probe=lambda: postgres_answers(settings, password_of()),
        user=postgres_system_user(),
        stop_signal=signal.SIGINT,  # PostgreSQL's fast shutdown: it does not wait for clients
    )

"""``make cluster``: a local production layout, started and stopped as one.

- PostgreSQL (the tracker store) and Redis (the lock store), private processes under ``var/``;
- the action server;
- ``REPLICAS`` Rasa servers on loopback, ports ``RASA_PORT+1`` ... ``RASA_PORT+N``, one process
  each, with ``endpoints.cluster.yml``;
- HAProxy on ``RASA_PORT``, in front of their REST channel: round robin, a health check every
  two seconds, and a request that finds a replica dead is sent to another one;
- the widget's demo page, as in ``make run``.

    python -m bot.serving.cluster      (make cluster; Ctrl-C stops everything)

Tests and benchmarks use :class:`Cluster` like :class:`bot.serve.Servers`, and
:func:`bot.serve.running` takes it too.
"""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path
from typing import Any

from bot import paths
from bot.serve import Servers, rasa_command, serve
from bot.serving.processes import Server
from bot.serving.stores import executable, initialise_postgres, postgres_password, postgres_server
from bot.settings import LOOPBACK, Settings, free_port

ENDPOINTS = paths.PROJECT_ROOT / "endpoints.cluster.yml"
# How the balancer treats a replica (HAProxy's configuration manual, "retry-on", "redispatch"):
# a request whose connection is refused or closed before any answer goes to another replica.
# A replica that crashes after storing a turn and before answering sees that turn sent again,
# with the same X-Request-ID (one unique id per request, kept through retries), so the
# tracker store does not store it twice (docs/deployment.md, "What a crash can do").
HAPROXY_CONFIG = """\
global
    maxconn 2048
    log stdout format raw local0 notice

defaults
    mode http
    log global
    timeout connect 2s
    timeout check 5s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response

frontend rest
    bind {host}:{port}
    unique-id-format %{{+X}}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid
    http-request set-header X-Request-ID %[unique-id]
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk GET /
    http-check expect status 200
    # A busy replica answers a check late; a dead one refuses at once, and the retry handles it.
    default-server inter 2s fall 3 rise 2
{servers}
"""


def replica_ports(settings: Settings) -> list[int]:
    return [settings.rasa_port + number for number in range(1, settings.replicas + 1)]


def haproxy_config(settings: Settings) -> str:
    servers = "\n".join(
        f"    server replica{number} {LOOPBACK}:{port} check"
        for number, port in enumerate(replica_ports(settings), start=1)
    )
    return HAPROXY_CONFIG.format(host=settings.rasa_host, port=settings.rasa_port, servers=servers)


def haproxy_config_file(settings: Settings) -> Path:
    return settings.tracker_db.parent / "haproxy.cfg"


class Cluster(Servers):
    """The layout of the module docstring; ``rasa`` is the balancer, where the REST channel is."""

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.postgres = postgres_server(self.settings)
        self.replicas = [self.replica(number, port) for number, port in self.numbered_ports()]
        command = [executable("haproxy"), "-db", "-f", str(haproxy_config_file(self.settings))]
        self.rasa = Server("balancer", command, f"{self.settings.rasa_url}/")

    def numbered_ports(self) -> list[tuple[int, int]]:
        return list(enumerate(replica_ports(self.settings), start=1))

    def replica(self, number: int, port: int) -> Server:
        """One Rasa server of one process (the replicas, not the workers, use the cores)."""
        command = rasa_command(self.settings, ENDPOINTS, replica_port=port)
        env = {"SANIC_WORKERS": "1", "POSTGRES_PASSWORD": postgres_password(self.settings)}
        return Server(f"rasa-{number}", command, f"http://{LOOPBACK}:{port}/", env)

    @property
    def stages(self) -> list[list[Server]]:
        return [
            [self.redis, self.postgres],
            [self.actions, *self.replicas, self.web],
            [self.rasa],
        ]

    def prepare(self) -> None:
        super().prepare()
        initialise_postgres(self.settings)
        haproxy_config_file(self.settings).write_text(haproxy_config(self.settings))

    def layout(self) -> list[str]:
        replicas = ", ".join(f"{LOOPBACK}:{port}" for port in replica_ports(self.settings))
        return [
            f"Rasa replicas behind HAProxy: {replicas}",
            f"Tracker store: PostgreSQL at {LOOPBACK}:{self.settings.postgres_port}",
            f"Lock store: Redis at {LOOPBACK}:{self.settings.redis_port}",
        ]


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def cluster_on_loopback(state_dir: Path, **overrides: Any) -> Settings:
    """``Settings.on_loopback`` with RASA_PORT ... RASA_PORT+REPLICAS all free (tests, benches).

    PostgreSQL's data folder is a folder of its own in /tmp, which the postgres user can
    reach; pytest's folders are root's only.
    """
    postgres_parent = Path(tempfile.mkdtemp(prefix="mbc-postgres-"))
    postgres_parent.chmod(0o711)
    overrides.setdefault("postgres_dir", postgres_parent / "data")
    replicas = overrides.get("replicas", Settings.replicas)
    while True:
        base = free_port()
        ports = range(base, base + replicas + 1)
        if not all(port_is_free(port) for port in ports):
            continue
        settings = Settings.on_loopback(state_dir, rasa_port=base, **overrides)
        others = {settings.actions_port, settings.web_port, settings.redis_port}
        if others.isdisjoint(ports) and settings.postgres_port not in ports:
            return settings


def main() -> None:
    serve(Cluster(Settings.from_environment()))


if __name__ == "__main__":
    main()

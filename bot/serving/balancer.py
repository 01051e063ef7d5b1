"""HAProxy in front of the Rasa replicas' REST channel, for ``make run`` and ``make cluster``.

Each replica is one Rasa process (``SANIC_WORKERS=1``) on loopback, on ``RASA_PORT+1`` ...
``RASA_PORT+REPLICAS``; HAProxy listens on ``RASA_PORT``. A replica is given at most
``REQUESTS_PER_REPLICA`` requests at once, and the others wait in HAProxy's queue for the first
replica that is free. Sanic's own workers could not do that: they share one listening socket,
so a worker took every connection waiting when it woke, and those waited behind each other
while another worker idled (32 clients: p95 510-600 ms, against 330 ms here; docs/deployment.md).
"""

from __future__ import annotations

from pathlib import Path

from bot.serving.processes import Server
from bot.serving.stores import executable
from bot.settings import LOOPBACK, Settings

# The one being answered and the next, which then starts at once: with one, each request waited
# for HAProxy to see the reply before it was sent (8 clients: 106 against 123 msg/s).
REQUESTS_PER_REPLICA = 2
# "balance first" (HAProxy's manual: meant for servers with a maxconn): the first replica until
# it has REQUESTS_PER_REPLICA, then the next. A light load stays on one warm process; taking
# turns between them ("leastconn") made one person's messages slower (median 17 against 13-16
# ms) and 8 clients too (98 against 114 msg/s).
# How the balancer treats a replica (HAProxy's configuration manual, "retry-on", "redispatch"):
# a request whose connection is refused or closed before any answer goes to another replica.
# A replica that crashes after storing a turn and before answering sees that turn sent again,
# with the same X-Request-ID (one unique id per request, kept through retries), so the
# tracker store does not store it twice (docs/deployment.md, "What a crash can do").
# "timeout queue": under a burst, a request waits in the queue rather than failing (503).
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
    timeout queue 60s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response

frontend rest
    bind {host}:{port}
    unique-id-format %{{+X}}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid
    http-request set-header X-Request-ID %[unique-id]
    default_backend replicas

backend replicas
    balance first
    # The REST channel's health route: 503 when the replica has no model (bot/channels/rest.py).
    option httpchk GET /webhooks/rest/
    http-check expect status 200
    # A busy replica answers a check late; a dead one refuses at once, and the retry handles it.
    default-server maxconn {per_replica} inter 2s fall 3 rise 2
{servers}
"""


def replica_ports(settings: Settings) -> list[int]:
    return [settings.rasa_port + number for number in range(1, settings.replicas + 1)]


def haproxy_config(settings: Settings) -> str:
    servers = "\n".join(
        f"    server replica{number} {LOOPBACK}:{port} check"
        for number, port in enumerate(replica_ports(settings), start=1)
    )
    return HAPROXY_CONFIG.format(
        host=settings.rasa_host,
        port=settings.rasa_port,
        per_replica=REQUESTS_PER_REPLICA,
        servers=servers,
    )


def haproxy_config_file(settings: Settings) -> Path:
    return settings.tracker_db.parent / "haproxy.cfg"


def write_haproxy_config(settings: Settings) -> None:
    haproxy_config_file(settings).write_text(haproxy_config(settings), encoding="utf-8")


def balancer_server(settings: Settings) -> Server:
    """HAProxy on RASA_PORT, in the foreground of its process (``-db``), logging to stdout."""
    command = [executable("haproxy"), "-db", "-f", str(haproxy_config_file(settings))]
    return Server("balancer", command, f"{settings.rasa_url}/")

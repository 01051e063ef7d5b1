"""``make cluster``: a local production layout, started and stopped as one.

- PostgreSQL (the tracker store) and Redis (the lock store), private processes under ``var/``;
- the action server;
- ``REPLICAS`` Rasa servers on loopback, ports ``RASA_PORT+1`` ... ``RASA_PORT+N``, one process
  each, with ``endpoints.cluster.yml``, as ``make run``'s on SQLite;
- HAProxy on ``RASA_PORT``, in front of their REST channel: each request goes to a replica
  that is free, a health check every two seconds, and a request that finds a replica dead
  is sent to another one (bot/serving/balancer.py);
- the widget's demo page, as in ``make run``.

    python -m bot.serving.cluster      (make cluster; Ctrl-C stops everything)

Tests and benchmarks use :class:`Cluster` like :class:`bot.serve.Servers`, and
:func:`bot.serve.running` takes it too.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bot import paths
from bot.serve import Servers, serve
from bot.serving.processes import Server
from bot.serving.stores import initialise_postgres, postgres_password, postgres_server
from bot.settings import LOOPBACK, Settings

ENDPOINTS = paths.PROJECT_ROOT / "endpoints.cluster.yml"


class Cluster(Servers):
    """make run's layout (:class:`bot.serve.Servers`) on PostgreSQL instead of SQLite."""

    endpoints = ENDPOINTS

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self.postgres = postgres_server(self.settings)

    def replica_env(self) -> dict[str, str]:
        return {"POSTGRES_PASSWORD": postgres_password(self.settings)}

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

    def layout(self) -> list[str]:
        return [
            f"Rasa replicas behind HAProxy: {self.replica_addresses()}",
            f"Tracker store: PostgreSQL at {LOOPBACK}:{self.settings.postgres_port}",
            f"Lock store: Redis at {LOOPBACK}:{self.settings.redis_port}",
        ]


def cluster_on_loopback(state_dir: Path, **overrides: Any) -> Settings:
    """``Settings.on_loopback`` with two replicas and PostgreSQL (tests, benches).

    PostgreSQL's data folder is a folder of its own in /tmp, which the postgres user can
    reach; pytest's folders are root's only.
    """
    postgres_parent = Path(tempfile.mkdtemp(prefix="mbc-postgres-"))
    postgres_parent.chmod(0o711)
    overrides.setdefault("postgres_dir", postgres_parent / "data")
    overrides.setdefault("replicas", 2)
    return Settings.on_loopback(state_dir, **overrides)


def main() -> None:
    serve(Cluster(Settings.from_environment()))


if __name__ == "__main__":
    main()

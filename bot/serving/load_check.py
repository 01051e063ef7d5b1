"""A quick load check of make run's or make cluster's layout, on loopback ports.

    python -m bot.serving.load_check [--workers 2] [--cluster] [--clients 8] [--turns 25]

Starts the servers (``--workers`` Sanic workers, or ``make cluster``'s replicas), times the
cold start, sends ``--clients`` concurrent conversations of ``--turns`` held-out messages each
(bot/evaluation/workload.py) through the REST channel, and prints throughput, latency
percentiles, errors, and the resident and proportional memory of each Rasa process.
``make bench`` is the full benchmark.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bot import paths
from bot.evaluation.examples import read_nlu
from bot.evaluation.load import run_conversations
from bot.evaluation.workload import conversations
from bot.serve import Servers
from bot.serving.cluster import Cluster, cluster_on_loopback
from bot.settings import Settings


def process_tree(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [pid, *(p for child in children for p in process_tree(int(child)))]


def memory_mib(pid: int) -> tuple[float, float]:
    """Resident and proportional set size (shared pages split among their users), in MiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    )
    kib = {name: int(fields[name].split()[0]) for name in ("Rss", "Pss")}
    return kib["Rss"] / 1024, kib["Pss"] / 1024


def rasa_processes(servers: Servers) -> list[int]:
    rasa = servers.replicas if isinstance(servers, Cluster) else [servers.rasa]
    return [pid for server in rasa if server.process for pid in process_tree(server.process.pid)]


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.serving.load_check", description=__doc__)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cluster", action="store_true")
    parser.add_argument("--clients", type=int, nargs="+", default=[8])
    parser.add_argument("--turns", type=int, default=25)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    state = Path(tempfile.mkdtemp(prefix="mbc-load-"))
    if arguments.cluster:
        servers: Servers = Cluster(cluster_on_loopback(state))
    else:
        servers = Servers(Settings.on_loopback(state, sanic_workers=arguments.workers))
    examples = read_nlu(paths.HELDOUT)
    started = time.monotonic()
    servers.start()
    try:
        print(f"cold start: {time.monotonic() - started:.1f} s, load average {os.getloadavg()}")
        url = f"{servers.settings.rasa_url}/webhooks/rest/webhook"
        for clients in arguments.clients:
            result = run_conversations(url, conversations(examples, clients, arguments.turns))
            print(
                f"{clients} clients x {arguments.turns} turns: {result.throughput:.1f} msg/s, "
                f"p50 {result.percentile_ms(50):.0f} ms, p95 {result.percentile_ms(95):.0f} ms, "
                f"{len(result.errors)} errors"
            )
        for pid in rasa_processes(servers):
            rss, pss = memory_mib(pid)
            print(f"Rasa process {pid}: {rss:.0f} MiB resident, {pss:.0f} MiB proportional")
    finally:
        servers.stop()
        shutil.rmtree(state, ignore_errors=True)
        if arguments.cluster:
            shutil.rmtree(servers.settings.postgres_dir.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""``python -m bot bench`` (``make bench``): what a message costs in use that looks real.

People chat through the REST channel in conversations of 25 and 60 messages, as long as
patients write them (``bot.evaluation.workload``). Measured, for each server:

- cost against conversation length: one person at a time, conversations of 60 messages; the
  median latency of turns 1-5 against turns 56-60;
- throughput and latency percentiles with 8 and 32 people at once, conversations of 25;
- the HTTP floor: the same clients on ``GET /``, which costs the HTTP server alone; every
  latency is also given as a ratio to it, so figures from a busy machine stay comparable;
- for servers it starts: cold start, CPU per message and peak memory of each process.

The servers: by default this command starts them (``bot.serve``) once with each number of
Rasa replicas behind the balancer (``--replicas 1 2``; ``REPLICAS``), with ``--env``
settings. ``--url`` measures a server already running instead, and ``--cluster-url``
adds a ``make cluster`` load balancer. Writes ``reports/bench.md`` and ``reports/bench.json``.
Exits with status 1 if any request failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from bot import paths
from bot.evaluation.bench_report import markdown_report
from bot.evaluation.examples import Example, heldout_set
from bot.evaluation.load import Conversation, LoadResult, floor, run_conversations
from bot.evaluation.model_info import describe_model
from bot.evaluation.processes import cpu_seconds, peak_resident_mib
from bot.evaluation.workload import conversations, word_counts
from bot.serve import Servers, running
from bot.settings import Settings

COMMAND = "bench"
HELP = "speed and cost in conversations of 25 and 60 messages (reports/bench.md)"
WEBHOOK = "/webhooks/rest/webhook"
EARLY_TURNS = 5  # turns 1-5 against the last five of a long conversation


Figures = dict[str, Any]  # what bench.json holds for one workload or one server


def add_arguments(parser: argparse.ArgumentParser) -> None:
    cores = os.cpu_count() or 1
    parser.add_argument("--model", type=Path, default=paths.MODEL)
    parser.add_argument("--replicas", type=int, nargs="+", default=sorted({1, cores}))
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the servers")
    parser.add_argument("--url", help="measure the Rasa server at this URL instead")
    parser.add_argument("--cluster-url", help="also measure this load balancer (make cluster)")
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--length", type=int, default=25, help="messages per conversation")
    parser.add_argument(
        "--rounds", type=int, default=4, help="conversations each client holds, one after another"
    )
    parser.add_argument("--long", type=int, default=60, help="messages of a long conversation")
    parser.add_argument("--long-conversations", type=int, default=3)
    parser.add_argument("--heldout", type=Path, default=paths.HELDOUT)
    parser.add_argument("--reports", type=Path, default=paths.REPORTS_DIR)
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 replica, 2 clients")


def apply_quick(arguments: argparse.Namespace) -> None:
    if arguments.quick:
        arguments.replicas, arguments.clients, arguments.rounds = [1], [2], 1
        arguments.length, arguments.long, arguments.long_conversations = 5, 10, 1


def by_server(servers: Servers, measure: Callable[[int], Any]) -> dict[str, list[Any]]:
    """``measure`` of each server's process; the replicas' together, as ``rasa``."""
    measured: dict[str, list[Any]] = {}
    for server in servers.all:
        if server.process:
            name = "rasa" if server in servers.replicas else server.name
            measured.setdefault(name, []).append(measure(server.process.pid))
    return measured


def cpu_by_server(servers: Servers | None) -> dict[str, float]:
    if servers is None:
        return {}
    return {name: sum(seconds) for name, seconds in by_server(servers, cpu_seconds).items()}


def summary(result: LoadResult) -> Figures:
    """A load run's figures, and the median latency of each turn of its conversations."""
    length = len(result.conversations[0].messages)
    turns = range(1, length + 1)
    return {
        "clients": result.clients,
        "answered": len(result.latencies),
        "errors": result.errors[:20],
        "failed": len(result.errors),
        "wall_s": result.wall_s,
        "per_second": result.throughput,
        **{f"p{p}_ms": result.percentile_ms(p) for p in (50, 95, 99)},
        "median_ms_per_turn": [result.median_ms_at(range(t, t + 1)) for t in turns],
        "median_ms_first_turns": result.median_ms_at(turns[:EARLY_TURNS]),
        "median_ms_last_turns": result.median_ms_at(turns[-EARLY_TURNS:]),
    }


def level(
    kind: str, url: str, planned: list[Conversation], clients: int, servers: Servers | None
) -> Figures:
    """One workload ("length" or "throughput"), then the floor with the same clients."""
    name = f"{clients} client(s), conversations of {len(planned[0].messages)}"
    print(f"  {name} ...", flush=True)
    before = cpu_by_server(servers)
    rest = run_conversations(url + WEBHOOK, planned, clients)
    used = {k: v - before[k] for k, v in cpu_by_server(servers).items()}
    requests_each = len(planned[0].messages) * len(planned) // clients
    words = [len(message.split()) for c in planned for message in c.messages]
    return {
        "name": name,
        "kind": kind,
        "words_per_message": word_counts(words),
        "rest": summary(rest),
        "floor": summary(floor(url + "/", clients, requests_each)),
        "cpu_ms_per_message": {k: 1000 * v / max(1, len(rest.latencies)) for k, v in used.items()},
    }


def measure(
    name: str, url: str, examples: Sequence[Example], arguments: argparse.Namespace,
    servers: Servers | None = None,
) -> Figures:  # fmt: skip
    """The long conversations, one at a time, then each number of clients at once."""
    print(f"{name}:", flush=True)
    run_conversations(url + WEBHOOK, conversations(examples, 1, EARLY_TURNS, seed=1))  # warm up
    long = conversations(examples, arguments.long_conversations, arguments.long)
    levels = [level("length", url, long, 1, servers)]
    for clients in arguments.clients:
        planned = conversations(examples, clients * arguments.rounds, arguments.length, clients)
        levels.append(level("throughput", url, planned, clients, servers))
    return {"name": name, "levels": levels, "cold_start_s": None, "rasa_processes": None}


@contextmanager
def started(arguments: argparse.Namespace, replicas: int) -> Iterator[tuple[Servers, float]]:
    """Servers on loopback with ``replicas`` Rasa processes, and their cold start in seconds."""
    extra_env = dict(item.split("=", 1) for item in arguments.env)
    with tempfile.TemporaryDirectory(prefix="mbc-bench-") as state:
        settings = Settings.on_loopback(
            Path(state), model=arguments.model, replicas=replicas, extra_env=extra_env
        )
        began = time.monotonic()
        with running(settings) as servers:
            wait_for_first_answer(settings.rasa_url + WEBHOOK)
            yield servers, time.monotonic() - began


def wait_for_first_answer(url: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while run_conversations(url, [Conversation("first", ["hello"])]).errors:
        if time.monotonic() > deadline:
            raise TimeoutError(f"No answer from {url} within {timeout_s:.0f} s")
        time.sleep(0.2)


def measure_started(
    arguments: argparse.Namespace, examples: Sequence[Example], replicas: int
) -> Figures:
    print(f"Starting the servers with REPLICAS={replicas} ...", flush=True)
    with started(arguments, replicas) as (servers, cold_start_s):
        name = f"make run, REPLICAS={replicas}"
        measured = measure(name, servers.settings.rasa_url, examples, arguments, servers)
        peaks = {
            name: [mib for tree in trees for mib in tree]
            for name, trees in by_server(servers, peak_resident_mib).items()
        }
    return measured | {
        "cold_start_s": cold_start_s,
        "rasa_processes": len(peaks["rasa"]),
        "peak_resident_mib": peaks,
    }


def run(arguments: argparse.Namespace) -> int:
    apply_quick(arguments)
    load_before = os.getloadavg()
    examples = heldout_set("project", Path(arguments.heldout)).examples
    if arguments.url:
        results = [measure(f"server at {arguments.url}", arguments.url, examples, arguments)]
    else:
        results = [measure_started(arguments, examples, n) for n in arguments.replicas]
    if arguments.cluster_url:
        name = f"cluster at {arguments.cluster_url}"
        results.append(measure(name, arguments.cluster_url, examples, arguments))
    levels = [lv for measured in results for lv in measured["levels"]]
    context = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "load_average": [load_before, os.getloadavg()],
        "early_turns": EARLY_TURNS,
        "env": arguments.env,
        "model": describe_model(Path(arguments.model)) if not arguments.url else None,
    }
    reports = Path(arguments.reports)
    reports.mkdir(parents=True, exist_ok=True)
    data = {**context, "servers": results}
    (reports / "bench.json").write_text(json.dumps(data, indent=2) + "\n")
    report = markdown_report(data)
    (reports / "bench.md").write_text(report)
    print("\n" + report)
    failed = sum(lv["rest"]["failed"] for lv in levels)
    if failed:
        print(f"FAILED: {failed} requests failed (see reports/bench.json)", file=sys.stderr)
    return 1 if failed else 0

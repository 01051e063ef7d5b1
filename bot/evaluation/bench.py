"""``make bench``: how fast the assistant answers and what it costs, against its targets.

For each configuration (the project's tuned ``config.yml`` and Rasa's default pipeline and
policies, ``configs/default.yml``), trained in the same run on the same data:

- full training time (``rasa train --force`` into a temporary folder, with its own cache);
- cold start: from starting both servers (``bot.serve``) to the first answer on the REST channel;
- latency p50/p95/p99 and throughput with 1, 8 and 32 concurrent clients sending held-out
  messages (each client its own conversation), and the floor: the same clients on ``GET /``,
  which costs the HTTP server alone, with every figure also as a ratio to the floor;
- peak resident memory (``VmHWM``) of the Rasa server's and the action server's process trees;
- the right-answer rate on the held-out set (``make eval``'s judge), so a faster configuration
  cannot hide an accuracy loss.

Writes ``reports/bench.md`` and ``reports/bench.json`` and prints the tables. Every loop is
bounded and every server listens on loopback only.

    python -m bot.evaluation.bench [--quick] [--env TF_INTRA_OP_PARALLELISM_THREADS=1]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bot import PROJECT_ROOT
from bot.evaluation.answers import Judge
from bot.evaluation.examples import HELDOUT_PATH, heldout_examples
from bot.evaluation.live import (
    answer_all,
    loopback_settings,
    send,
    started,
    tree_cpu_seconds,
    tree_peak_resident_mib,
    wait_for_first_answer,
    webhook_url,
)
from bot.evaluation.load import LoadResult, measure_floor, measure_rest
from bot.evaluation.markdown import number, percent, table, verdict
from bot.evaluation.model_info import describe_model, display_path
from bot.paths import LOG_DIR, MODEL
from bot.serve import Servers
from bot.settings import Settings

REPORTS_DIR = PROJECT_ROOT / "reports"
PROJECT_CONFIG = PROJECT_ROOT / "config.yml"
DEFAULT_CONFIG = PROJECT_ROOT / "configs" / "default.yml"
RASA = Path(sys.executable).with_name("rasa")
TITLES = {PROJECT_CONFIG: "Project", DEFAULT_CONFIG: "Rasa default"}
WARM_UP_MESSAGES = 10
PERCENTILES = (50, 95, 99)


@dataclass(frozen=True)
class Targets:
    """What the assistant must reach on the 2-core machine it is measured on."""

    p95_ms: tuple[tuple[int, float], ...] = ((8, 150.0), (32, 400.0))
    throughput: float = 40.0
    cold_start_s: float = 30.0
    rasa_resident_mib: float = 1536.0
    training_s: float = 180.0


@dataclass
class Level:
    """One level of load: the REST channel and the floor, with the same clients."""

    rest: LoadResult
    floor: LoadResult
    # CPU milliseconds each server used per answered REST message: unlike latency, hardly
    # changed by other work on the machine.
    cpu_ms: dict[str, float] = field(default_factory=dict)


@dataclass
class Run:
    """Everything measured for one configuration."""

    name: str
    config: str
    model: dict[str, Any]
    training_s: float | None = None
    cold_start_s: float = math.nan
    levels: list[Level] = field(default_factory=list)
    peak_mib: dict[str, float] = field(default_factory=dict)
    right_answers: int = 0
    messages: int = 0

    @property
    def right_answer_rate(self) -> float | None:
        return self.right_answers / self.messages if self.messages else None

    @property
    def rasa_peak_mib(self) -> float:
        return self.peak_mib.get("rasa", math.nan)

    @property
    def best_throughput(self) -> float:
        return max((level.rest.throughput for level in self.levels), default=math.nan)

    def level(self, clients: int) -> Level | None:
        return next((lv for lv in self.levels if lv.rest.clients == clients), None)


def quiet_rasa_environment(cache_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "RASA_CACHE_DIRECTORY": str(cache_dir),
    }


def train(config: Path, out_dir: Path, name: str) -> tuple[Path, float]:
    """``rasa train --force`` with ``config``; the model's path and the wall-clock seconds."""
    log = LOG_DIR / f"bench-train-{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [
        str(RASA), "train", "--force", "--config", str(config), "--out", str(out_dir),
        "--fixed-model-name", name,
    ]  # fmt: skip
    print(f"Training {display_path(config)} (log: {display_path(log)}) ...", flush=True)
    started_at = time.monotonic()
    # Its own empty cache: nothing is reused from earlier runs, and .rasa/cache stays as it is.
    with log.open("wb") as output, tempfile.TemporaryDirectory(prefix="mbc-cache-") as cache:
        status = subprocess.run(
            command,
            cwd=PROJECT_ROOT,
            env=quiet_rasa_environment(Path(cache)),
            stdout=output,
            stderr=subprocess.STDOUT,
            check=False,
        ).returncode
    seconds = time.monotonic() - started_at
    model = out_dir / f"{name}.tar.gz"
    if status != 0 or not model.exists():
        raise RuntimeError(f"Training with {config} failed (status {status}); see {log}")
    return model, seconds


def warm_up(settings: Settings, messages: Sequence[str]) -> None:
    """A few messages first, so lazily built parts do not count in the first level."""
    for i, message in enumerate(messages[:WARM_UP_MESSAGES]):
        send(settings, f"warm-up-{i}", message)


def measure_servers(run: Run, model: Path, arguments: argparse.Namespace) -> None:
    """Start the servers with ``model`` and measure them under each level of load."""
    examples = heldout_examples(arguments.heldout, arguments.limit)
    messages = [example.text for example in examples]
    extra_env = dict(item.split("=", 1) for item in arguments.env)
    with tempfile.TemporaryDirectory(prefix="mbc-bench-") as state:
        settings = loopback_settings(model, Path(state), extra_env)
        print(f"Starting the servers with {run.name} ...", flush=True)
        started_at = time.monotonic()
        with started(settings) as servers:
            wait_for_first_answer(settings, messages[0])
            run.cold_start_s = time.monotonic() - started_at
            warm_up(settings, messages)
            for clients in arguments.clients:
                run.levels.append(measure_level(servers, messages, clients, arguments))
            print(f"  right answers on {len(examples)} held-out messages ...", flush=True)
            answered = answer_all(settings, examples, Judge())
            run.right_answers, run.messages = sum(a.right for a in answered), len(answered)
            run.peak_mib = peak_memory(servers)


def measure_level(
    servers: Servers, messages: Sequence[str], clients: int, arguments: argparse.Namespace
) -> Level:
    """``clients`` concurrent clients on the REST channel, then the same on the floor."""
    settings = servers.settings
    per_client = max(arguments.min_per_client, math.ceil(arguments.requests / clients))
    print(f"  {clients} client(s) x {per_client} messages ...", flush=True)
    cpu_before = cpu_by_server(servers)
    rest = measure_rest(
        webhook_url(settings), messages, clients, per_client, arguments.conversation
    )
    cpu_used = {name: cpu - cpu_before[name] for name, cpu in cpu_by_server(servers).items()}
    floor = measure_floor(f"{settings.rasa_url}/", clients, per_client)
    answered = max(1, len(rest.latencies))
    return Level(rest, floor, {name: 1000 * cpu / answered for name, cpu in cpu_used.items()})


def cpu_by_server(servers: Servers) -> dict[str, float]:
    """CPU seconds used so far by each server's process tree, by the server's name."""
    return {
        server.name: tree_cpu_seconds(server.process.pid) if server.process else math.nan
        for server in servers.all
    }


def peak_memory(servers: Servers) -> dict[str, float]:
    """Peak resident MiB of each server's process tree, by the server's name."""
    return {
        server.name: tree_peak_resident_mib(server.process.pid) if server.process else math.nan
        for server in servers.all
    }


def plan_runs(arguments: argparse.Namespace, out_dir: Path) -> list[tuple[Run, Path]]:
    """Train each configuration (or, with --no-train, use the trained model) and describe it."""
    if arguments.no_train:
        model = Path(arguments.model)
        return [(Run("the trained model", display_path(model), describe_model(model)), model)]
    configs = [Path(config).resolve() for config in arguments.config] or [PROJECT_CONFIG]
    if not arguments.config and not arguments.no_default:
        configs.append(DEFAULT_CONFIG)
    runs = []
    for i, config in enumerate(configs):
        title = TITLES.get(config, config.stem)
        model, seconds = train(config, out_dir, f"{i}-{config.stem}")
        runs.append((Run(title, display_path(config), describe_model(model), seconds), model))
    return runs


def level_rows(run: Run) -> list[list[str]]:
    rows = []
    for level in run.levels:
        rest, floor = level.rest, level.floor
        rows.append(
            [
                str(rest.clients),
                str(len(rest.latencies)) + (f" ({rest.failures} failed)" if rest.failures else ""),
                *(number(rest.percentile_ms(p)) for p in PERCENTILES),
                number(rest.throughput, 1),
                number(level.cpu_ms.get("rasa"), 1),
                number(level.cpu_ms.get("actions"), 1),
                *(number(floor.percentile_ms(p), 1) for p in PERCENTILES),
                number(floor.throughput),
                *(ratio(rest.percentile_ms(p), floor.percentile_ms(p)) for p in PERCENTILES),
                ratio(rest.throughput, floor.throughput, digits=3),
            ]
        )
    return rows


LEVEL_HEADER = [
    "Clients",
    "Messages",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "msg/s",
    "Rasa CPU ms/msg",
    "Actions CPU ms/msg",
    "Floor p50 ms",
    "Floor p95 ms",
    "Floor p99 ms",
    "Floor req/s",
    "p50 ÷ floor",
    "p95 ÷ floor",
    "p99 ÷ floor",
    "msg/s ÷ floor",
]


def ratio(value: float, floor: float, digits: int = 0) -> str:
    return number(value / floor, digits, "x") if floor and not math.isnan(floor) else "n/a"


def p95_at(run: Run, clients: int) -> float | None:
    level = run.level(clients)
    return level.rest.percentile_ms(95) if level else None


def meets(value: float | None, limit: float, at_least: bool = False) -> bool | None:
    if value is None or math.isnan(value):
        return None
    return value >= limit if at_least else value <= limit


def target_rows(runs: Sequence[Run], targets: Targets) -> list[list[str]]:
    """One row per target: the limit, then each run's figure and whether it met the target."""
    rows: list[list[str]] = []

    def row(
        label: str, values: list[float | None], limit: float, unit: str, at_least: bool = False
    ) -> None:
        cells = [label]
        for value in values:
            shown = number(value, 1 if unit == "msg/s" else 0, f" {unit}")
            cells.append(f"{shown} ({verdict(meets(value, limit, at_least))})")
        rows.append(cells)

    for clients, limit in targets.p95_ms:
        values = [p95_at(run, clients) for run in runs]
        row(f"p95, {clients} clients <= {limit:.0f} ms", values, limit, "ms")
    row(
        f"throughput >= {targets.throughput:.0f} msg/s",
        [run.best_throughput for run in runs],
        targets.throughput,
        "msg/s",
        at_least=True,
    )
    row(
        f"cold start <= {targets.cold_start_s:.0f} s",
        [run.cold_start_s for run in runs],
        targets.cold_start_s,
        "s",
    )
    row(
        f"Rasa server resident <= {targets.rasa_resident_mib:.0f} MiB",
        [run.rasa_peak_mib for run in runs],
        targets.rasa_resident_mib,
        "MiB",
    )
    row(
        f"full training <= {targets.training_s:.0f} s",
        [run.training_s for run in runs],
        targets.training_s,
        "s",
    )
    return rows


def other_rows(runs: Sequence[Run]) -> list[list[str]]:
    return [
        ["Right answers on the held-out set (REST)"]
        + [
            f"{percent(run.right_answer_rate)} ({run.right_answers}/{run.messages})" for run in runs
        ],
        ["Peak resident MiB, each server"]
        + [", ".join(f"{k} {number(v)}" for k, v in run.peak_mib.items()) for run in runs],
        ["Components"] + [", ".join(run.model["components"]) for run in runs],
    ]


def markdown_report(runs: Sequence[Run], context: dict[str, Any]) -> str:
    names = [f"{run.name} (`{run.config}`)" for run in runs]
    lines = [
        "# Speed and cost (`make bench`)",
        "",
        f"- Date: {context['date']}; {context['cpus']} CPU cores; load average "
        f"{context['load_before']} before and {context['load_after']} after the run "
        f"(a load above the core count means other work shared the CPU: figures are pessimistic).",
        f"- Load: {context['messages']} held-out messages, sent in turn by each client, each "
        f"from another offset; each client has its own sender id, a new one (a new "
        f"conversation) every {context['conversation']} messages; about {context['requests']} "
        "messages per level. Floor: the same clients and request counts on `GET /` of the same "
        "Rasa server.",
        f"- Server environment: {context['env'] or 'as `make run`'}. Run took "
        f"{context['seconds']:.0f} s.",
        "",
        "## Targets",
        "",
        table(["Target", *names], target_rows(runs, Targets())),
        "",
        table(["", *names], other_rows(runs)),
        "",
    ]
    for run, name in zip(runs, names, strict=True):
        lines += [
            f"## {name}: latency under load",
            "",
            f"Model sha256 {run.model['sha256']}, trained {run.model['trained_at']}. Training "
            f"{number(run.training_s, 0, ' s')}; cold start {number(run.cold_start_s, 1, ' s')}; "
            "peak resident: "
            + ", ".join(f"{name} {number(mib)} MiB" for name, mib in run.peak_mib.items())
            + ".",
            "",
            table(LEVEL_HEADER, level_rows(run)),
            "",
        ]
    return "\n".join(lines)


def run_as_dict(run: Run) -> dict[str, Any]:
    return {
        "name": run.name,
        "config": run.config,
        "model": run.model,
        "training_s": run.training_s,
        "cold_start_s": run.cold_start_s,
        "peak_resident_mib": run.peak_mib,
        "right_answer_rate": run.right_answer_rate,
        "levels": [
            {
                kind: {
                    "clients": result.clients,
                    "answered": len(result.latencies),
                    "failures": result.failures,
                    "wall_s": result.wall_s,
                    "per_second": result.throughput,
                    **{f"p{p}_ms": result.percentile_ms(p) for p in PERCENTILES},
                }
                for kind, result in (("rest", level.rest), ("floor", level.floor))
            }
            | {"cpu_ms_per_message": level.cpu_ms}
            for level in run.levels
        ],
    }


def without_nan(value: Any) -> Any:
    """``value`` with NaN (not measured) as null, so bench.json is standard JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: without_nan(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nan(item) for item in value]
    return value


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot.evaluation.bench", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: trained model, 10 messages, 1 and 2 clients",
    )
    parser.add_argument("--no-train", action="store_true", help="measure --model only")
    parser.add_argument("--no-default", action="store_true", help="skip configs/default.yml")
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        help="train and measure this configuration instead (repeat to compare several)",
    )
    parser.add_argument("--keep-models", type=Path, help="keep the trained models in this folder")
    parser.add_argument("--model", type=Path, default=MODEL, help="with --no-train")
    parser.add_argument("--heldout", type=Path, default=HELDOUT_PATH)
    parser.add_argument("--limit", type=int, help="use only this many held-out messages")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--requests", type=int, default=240, help="messages per level, about")
    parser.add_argument("--min-per-client", type=int, default=10)
    parser.add_argument("--conversation", type=int, default=10, help="messages per sender id")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the servers")
    parser.add_argument("--reports", type=Path, default=REPORTS_DIR)
    arguments = parser.parse_args(argv)
    if arguments.quick:
        # No training and no side by side: 10 messages, 1 and 2 clients, the trained model.
        arguments.no_train = True
        arguments.limit = arguments.limit or 10
        arguments.clients = [1, 2]
        arguments.requests, arguments.min_per_client = 10, 5
    return arguments


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    started_at = time.monotonic()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="mbc-bench-models-") as out_dir:
        models_dir = Path(arguments.keep_models or out_dir)
        models_dir.mkdir(parents=True, exist_ok=True)
        runs = plan_runs(arguments, models_dir)
        for run, model in runs:
            measure_servers(run, model, arguments)
    context = {
        "date": datetime.now().isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_before": " ".join(f"{x:.1f}" for x in load_before),
        "load_after": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "messages": len(heldout_examples(arguments.heldout, arguments.limit)),
        "requests": arguments.requests,
        "conversation": arguments.conversation,
        "env": " ".join(arguments.env),
        "seconds": time.monotonic() - started_at,
    }
    report = markdown_report([run for run, _ in runs], context)
    reports = Path(arguments.reports)
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "bench.md").write_text(report)
    data = {**context, "runs": [run_as_dict(run) for run, _ in runs]}
    (reports / "bench.json").write_text(json.dumps(without_nan(data), indent=2) + "\n")
    print()
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

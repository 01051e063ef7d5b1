"""``reports/bench.md``, written from the figures of ``reports/bench.json``."""

from __future__ import annotations

from typing import Any

from bot.evaluation.markdown import number, table

LENGTH_HEADER = ["Server", "Words/msg", "Early turns", "Late turns", "Early median ms",
                 "Late median ms", "Late ÷ early", "Floor p50 ms", "Early ÷ floor",
                 "Late ÷ floor", "Errors"]  # fmt: skip
LEVEL_HEADER = ["Server", "Clients", "Words/msg", "Messages", "Errors", "msg/s", "p50 ms",
                "p95 ms", "p99 ms", "Floor p50 ms", "Floor p95 ms", "p50 ÷ floor",
                "p95 ÷ floor", "Rasa CPU ms/msg", "Actions CPU ms/msg",
                "HAProxy CPU ms/msg"]  # fmt: skip
SERVER_HEADER = ["Server", "Cold start s", "Rasa processes",
                 "Peak resident MiB, each Rasa process", "Action server MiB"]  # fmt: skip


def ratio(value: float | None, floor: float | None, digits: int = 1) -> str:
    return number(value / floor, digits, "x") if value is not None and floor else "n/a"


def levels(data: dict[str, Any], kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [(s["name"], lv) for s in data["servers"] for lv in s["levels"] if lv["kind"] == kind]


def length_row(server: str, level: dict[str, Any], early: int) -> list[str]:
    rest, floor = level["rest"], level["floor"]["p50_ms"]
    turns = len(rest["median_ms_per_turn"])
    first, last = rest["median_ms_first_turns"], rest["median_ms_last_turns"]
    return [server, number(level["words_per_message"]["mean"], 1), f"1-{early}",
            f"{turns - early + 1}-{turns}", number(first), number(last),
            ratio(last, first, 2), number(floor, 1), ratio(first, floor), ratio(last, floor),
            str(rest["failed"])]  # fmt: skip


def level_row(server: str, level: dict[str, Any]) -> list[str]:
    rest, floor, cpu = level["rest"], level["floor"], level["cpu_ms_per_message"]
    return [server, str(rest["clients"]), number(level["words_per_message"]["mean"], 1),
            str(rest["answered"]), str(rest["failed"]), number(rest["per_second"], 1),
            *(number(rest[f"p{p}_ms"]) for p in (50, 95, 99)), number(floor["p50_ms"], 1),
            number(floor["p95_ms"], 1), ratio(rest["p50_ms"], floor["p50_ms"]),
            ratio(rest["p95_ms"], floor["p95_ms"]), number(cpu.get("rasa"), 1),
            number(cpu.get("actions"), 1), number(cpu.get("balancer"), 2)]  # fmt: skip


def server_row(server: dict[str, Any]) -> list[str]:
    peaks = server.get("peak_resident_mib") or {}
    return [server["name"], number(server["cold_start_s"], 1),
            str(server["rasa_processes"] or "n/a"),
            ", ".join(number(mib) for mib in peaks.get("rasa", [])) or "n/a",
            ", ".join(number(mib) for mib in peaks.get("actions", [])) or "n/a"]  # fmt: skip


def markdown_report(data: dict[str, Any]) -> str:
    load, model, early = data["load_average"], data["model"], data["early_turns"]
    loads = [" ".join(f"{x:.1f}" for x in averages) for averages in load]
    return "\n".join(
        [
            "# Speed and cost (`make bench`)",
            "",
            f"- Date: {data['date']}; {data['cores']} CPU cores; load average (1, 5, 15 min) "
            f"{loads[0]} before, {loads[1]} after (above the core count, other work shared the "
            "CPU). How to read it: `docs/evaluation.md`.",
            "- Messages: held-out lines, alone or several in a row, up to 60 words; no alarms.",
            f"- Model: `{model['path']}` (sha256 {model['sha256']})" if model else "- Model: n/a",
            f"- Server settings: {' '.join(data['env']) or 'as `make run`'}",
            "",
            "## Cost against conversation length (one person at a time)",
            "",
            table(LENGTH_HEADER, [length_row(s, lv, early) for s, lv in levels(data, "length")]),
            "",
            "## Throughput: people chatting at once",
            "",
            table(LEVEL_HEADER, [level_row(s, lv) for s, lv in levels(data, "throughput")]),
            "",
            "## Servers started by the benchmark",
            "",
            table(SERVER_HEADER, [server_row(s) for s in data["servers"]]),
            "",
        ]
    )

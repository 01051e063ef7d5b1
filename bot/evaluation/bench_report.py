"""``reports/bench.md``, written from the figures of ``reports/bench.json``."""

from __future__ import annotations

from typing import Any

from bot.evaluation.markdown import number, table


def ratio(value: float | None, floor: float | None, digits: int = 1) -> str:
    return number(value / floor, digits, "x") if value is not None and floor else "n/a"


def length_rows(data: dict[str, Any]) -> list[list[str]]:
    rows, early = [], data["early_turns"]
    for server in data["servers"]:
        [long] = [level for level in server["levels"] if level["kind"] == "length"]
        turns = long["median_ms_per_turn"]
        first, last = median(turns[:early]), median(turns[-early:])
        floor = long["floor"]["p50_ms"]
        rows.append(
            [server["name"], f"1-{early}", f"{len(turns) - early + 1}-{len(turns)}",
             number(first), number(last), ratio(last, first, 2), number(floor, 1),
             ratio(first, floor), ratio(last, floor), str(len(long["rest"]["errors"]))]
        )  # fmt: skip
    return rows


def median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]


def level_rows(data: dict[str, Any]) -> list[list[str]]:
    rows = []
    for server in data["servers"]:
        for level in (lv for lv in server["levels"] if lv["kind"] == "throughput"):
            rest, floor, cpu = level["rest"], level["floor"], level["cpu_ms_per_message"]
            rows.append(
                [server["name"], str(rest["clients"]), str(rest["answered"]),
                 str(len(rest["errors"])), number(rest["per_second"], 1),
                 *(number(rest[f"p{p}_ms"]) for p in (50, 95, 99)),
                 number(floor["p50_ms"], 1), number(floor["p95_ms"], 1),
                 ratio(rest["p50_ms"], floor["p50_ms"]), ratio(rest["p95_ms"], floor["p95_ms"]),
                 number(cpu.get("rasa"), 1), number(cpu.get("actions"), 1)]
            )  # fmt: skip
    return rows


def server_rows(data: dict[str, Any]) -> list[list[str]]:
    return [
        [server["name"], number(server["cold_start_s"], 1), str(server["rasa_processes"] or "n/a"),
         ", ".join(number(mib) for mib in peaks.get("rasa", [])) or "n/a",
         ", ".join(number(mib) for mib in peaks.get("actions", [])) or "n/a"]
        for server in data["servers"]
        if (peaks := server["peak_resident_mib"]) is not None
    ]  # fmt: skip


def markdown_report(data: dict[str, Any]) -> str:
    words, load = data["words_per_message"], data["load_average"]
    model = data["model"]
    return "\n".join(
        [
            "# Speed and cost (`make bench`)",
            "",
            f"- Date: {data['date']}; {data['cores']} CPU cores; load average (1, 5, 15 min) "
            f"{' '.join(f'{x:.1f}' for x in load[0])} before, "
            f"{' '.join(f'{x:.1f}' for x in load[1])} after (above the core count, other work "
            "shared the CPU). How to read it: `docs/evaluation.md`.",
            f"- Messages: {words['mean']:.1f} words on average, median {words['median']:.0f}, "
            f"at most {words['max']}; held-out lines, alone or several in a row; no alarms.",
            f"- Model: `{model['path']}` (sha256 {model['sha256']})" if model else "- Model: n/a",
            f"- Server settings: {' '.join(data['env']) or 'as `make run`'}",
            "",
            "## Cost against conversation length (one person at a time)",
            "",
            table(
                [
                    "Server",
                    "Early turns",
                    "Late turns",
                    "Early median ms",
                    "Late median ms",
                    "Late ÷ early",
                    "Floor p50 ms",
                    "Early ÷ floor",
                    "Late ÷ floor",
                    "Errors",
                ],
                length_rows(data),
            ),  # fmt: skip
            "",
            "## Throughput: people chatting at once",
            "",
            table(
                [
                    "Server",
                    "Clients",
                    "Messages",
                    "Errors",
                    "msg/s",
                    "p50 ms",
                    "p95 ms",
                    "p99 ms",
                    "Floor p50 ms",
                    "Floor p95 ms",
                    "p50 ÷ floor",
                    "p95 ÷ floor",
                    "Rasa CPU ms/msg",
                    "Actions CPU ms/msg",
                ],
                level_rows(data),
            ),  # fmt: skip
            "",
            "## Servers started by the benchmark",
            "",
            table(
                [
                    "Server",
                    "Cold start s",
                    "Rasa processes",
                    "Peak resident MiB, each Rasa process",
                    "Action server MiB",
                ],
                server_rows(data),
            ),  # fmt: skip
            "",
        ]
    )

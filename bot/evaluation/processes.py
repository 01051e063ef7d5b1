"""CPU time and peak memory of a server's process tree, from ``/proc`` (Linux)."""

from __future__ import annotations

import os
from pathlib import Path


def stat_fields(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name (field 3 on), or none."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def descendants(root: int) -> list[int]:
    """``root`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        fields = stat_fields(int(entry.name))
        if fields:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_seconds(root: int) -> float:
    """User plus system CPU time used so far by the running processes of a tree."""
    # utime and stime are fields 14 and 15 of stat.
    ticks = sum(int(f[11]) + int(f[12]) for pid in descendants(root) if (f := stat_fields(pid)))
    return ticks / os.sysconf("SC_CLK_TCK")


def peak_resident_mib(root: int) -> list[float]:
    """The peak resident memory (``VmHWM``) of each process of a tree, in MiB."""
    peaks = []
    for pid in descendants(root):
        try:
            status = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:
            continue
        peaks += [int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:")]
    return peaks

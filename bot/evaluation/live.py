"""The real servers, started the way ``make run`` starts them, and what is asked of them.

Servers run on free loopback ports with their own tracker database and logs, so a measurement
never touches ``var/tracker.db`` or a server someone else is running.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import requests

from bot.evaluation.answers import Judge, Reply
from bot.evaluation.examples import Example
from bot.evaluation.metrics import Prediction
from bot.serve import Servers
from bot.settings import Settings

REQUEST_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Answered:
    """One held-out message, the bot's reply, and the judge's verdict."""

    text: str
    intent: str
    right: bool
    answer: str
    reply: str


def loopback_settings(
    model: Path, state_dir: Path, extra_env: Mapping[str, str], api: bool = False
) -> Settings:
    """Settings for servers on free loopback ports, keeping their state in ``state_dir``.

    ``api`` opens Rasa's HTTP API (``/model/parse``) behind a random token, for this run only.
    """
    return Settings.on_loopback(
        state_dir,
        model=model,
        api_token=uuid.uuid4().hex if api else "",
        extra_env=dict(extra_env),
    )


@contextmanager
def started(settings: Settings) -> Iterator[Servers]:
    """Both servers, up inside the ``with`` block and stopped after it."""
    servers = Servers(settings)
    try:
        servers.start()
        yield servers
    finally:
        servers.stop()


def webhook_url(settings: Settings) -> str:
    return f"{settings.rasa_url}/webhooks/rest/webhook"


def new_sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def send(settings: Settings, sender: str, message: str) -> Reply:
    """POST one message to the REST channel and return the bot's messages."""
    response = requests.post(
        webhook_url(settings),
        json={"sender": sender, "message": message},
        timeout=REQUEST_TIMEOUT_S,
    )
    response.raise_for_status()
    reply: list[dict[str, Any]] = response.json()
    return reply


def parse(settings: Settings, message: str) -> Prediction:
    """What the served model's NLU makes of ``message`` (FallbackClassifier included)."""
    response = requests.post(
        f"{settings.rasa_url}/model/parse",
        params={"token": settings.api_token},
        json={"text": message},
        timeout=REQUEST_TIMEOUT_S,
    )
    response.raise_for_status()
    intent = response.json().get("intent") or {}
    return Prediction(message, "", str(intent.get("name")), intent.get("confidence"))


def parse_all(settings: Settings, examples: Sequence[Example]) -> list[Prediction]:
    """The served model's intent for each example, next to the intent it was labelled with."""
    return [replace(parse(settings, e.text), expected=e.intent) for e in examples]


def wait_for_first_answer(settings: Settings, message: str, timeout_s: float = 120.0) -> Reply:
    """Send ``message`` until the bot answers it (the REST channel opens after ``GET /``)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            reply = send(settings, new_sender("first"), message)
            if reply:
                return reply
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise TimeoutError(f"No answer to a first message within {timeout_s:.0f} s")
        time.sleep(0.1)


def answer_all(settings: Settings, examples: Sequence[Example], judge: Judge) -> list[Answered]:
    """Send each message as the first of a new conversation, and judge each reply."""
    answered = []
    for example in examples:
        reply = send(settings, new_sender("eval"), example.text)
        verdict = judge.judge(example.intent, example.text, reply)
        said = " | ".join(str(message.get("text") or "") for message in reply)
        answered.append(Answered(example.text, example.intent, verdict.right, verdict.answer, said))
    return answered


def descendants(root: int) -> list[int]:
    """``root`` and every process below it, from the parent ids in ``/proc/<pid>/stat``."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (``/proc/<pid>/stat``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # utime and stime are fields 14 and 15 of stat; fields[0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int) -> float:
    """The CPU time used so far by a process tree (its processes that are still running)."""
    return sum(cpu_seconds(pid) for pid in descendants(root))


def peak_resident_kib(pid: int) -> int:
    """A process's peak resident set size (``VmHWM``), or 0 if it has gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_peak_resident_mib(root: int) -> float:
    """The peak resident memory of a process tree: the sum of each process's ``VmHWM``."""
    return sum(peak_resident_kib(pid) for pid in descendants(root)) / 1024

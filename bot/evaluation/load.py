"""Concurrent people chatting over HTTP (asyncio and aiohttp).

Each client holds one conversation at a time and sends its messages one after another, each
after the previous reply, as a person in a chat does; clients run at once. Loops are bounded:
a run ends when every conversation is done, and every request has a timeout.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import numpy

REQUEST_TIMEOUT_S = 60.0


@dataclass
class Conversation:
    """One person's messages, and what happened to each (in the same order)."""

    sender: str
    messages: Sequence[str]
    latencies_s: list[float] = field(default_factory=list)
    replies: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LoadResult:
    """The conversations of one run, done, and how long the run took."""

    conversations: list[Conversation]
    clients: int
    wall_s: float

    @property
    def latencies(self) -> list[float]:
        return [latency for c in self.conversations for latency in c.latencies_s]

    @property
    def errors(self) -> list[str]:
        return [error for c in self.conversations for error in c.errors]

    @property
    def throughput(self) -> float:
        """Answered requests per second of wall-clock time."""
        return len(self.latencies) / self.wall_s if self.wall_s else 0.0

    def percentile_ms(self, percent: float) -> float:
        return percentile_ms(self.latencies, percent)

    def median_ms_at(self, turns: range) -> float:
        """The median latency of the turns numbered ``turns`` (from 1) of every conversation."""
        chosen = [c.latencies_s[t - 1] for c in self.conversations for t in turns]
        return percentile_ms(chosen, 50)


def percentile_ms(latencies_s: Sequence[float], percent: float) -> float:
    """The nearest-rank percentile (the smallest value with ``percent`` % at or below it)."""
    if not latencies_s:
        return float("nan")
    return float(numpy.percentile(latencies_s, percent, method="inverted_cdf")) * 1000


async def talk(session: aiohttp.ClientSession, url: str, conversation: Conversation) -> None:
    """POST each message to the REST channel at ``url``, or GET ``url`` once per empty one."""
    for message in conversation.messages:
        started = time.perf_counter()
        try:
            request = (
                session.post(url, json={"sender": conversation.sender, "message": message})
                if message
                else session.get(url)
            )
            async with request as response:
                body = await response.read()
                response.raise_for_status()
            conversation.replies.append(json.loads(body) if message else None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            conversation.errors.append(f"{type(error).__name__}: {error}")
            conversation.replies.append(None)
        conversation.latencies_s.append(time.perf_counter() - started)


async def _run(
    url: str, conversations: list[Conversation], clients: int, timeout_s: float
) -> float:
    async def client(number: int) -> None:
        for conversation in conversations[number::clients]:
            await talk(session, url, conversation)

    timeout = aiohttp.ClientTimeout(total=timeout_s)
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(number) for number in range(clients)))
        return time.perf_counter() - started


def run_conversations(
    url: str,
    conversations: list[Conversation],
    clients: int | None = None,
    timeout_s: float = REQUEST_TIMEOUT_S,
) -> LoadResult:
    """``clients`` people at once (one per conversation by default) talking to ``url``."""
    clients = clients or len(conversations)
    wall_s = asyncio.run(_run(url, conversations, clients, timeout_s))
    return LoadResult(conversations, clients, wall_s)


def floor(url: str, clients: int, requests_each: int) -> LoadResult:
    """The same clients on GET ``url``: what the HTTP server costs without NLU or dialogue."""
    plans = [Conversation("", [""] * requests_each) for _ in range(clients)]
    return run_conversations(url, plans)

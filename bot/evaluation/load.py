"""Concurrent clients, each sending a fixed number of requests one after another.

Each client is one asyncio task with its own connection and (for the REST channel) its own
sender id: its messages are one conversation, and after ``conversation_length`` messages it
starts a new one with a new sender id, as a patient's chat is short. (Rasa loads and saves the
whole conversation for each message, so endless conversations would measure tracker size, not
the assistant.) Loops are bounded: a level ends when every client has sent its share, and every
request has a timeout.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

REQUEST_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class LoadResult:
    """Latencies (seconds) of one level of load, and how long the level took."""

    clients: int
    latencies: list[float]
    wall_s: float
    failures: int

    @property
    def throughput(self) -> float:
        """Answered requests per second of wall-clock time."""
        return len(self.latencies) / self.wall_s if self.wall_s else 0.0

    def percentile_ms(self, percent: float) -> float:
        return percentile(self.latencies, percent) * 1000


def percentile(values: Sequence[float], percent: float) -> float:
    """The nearest-rank percentile: the smallest value with ``percent`` % of values at or below."""
    if not values:
        return math.nan
    ranked = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ranked)))
    return ranked[rank - 1]


async def one_client(
    session: aiohttp.ClientSession,
    url: str,
    messages: Sequence[str] | None,
    requests: int,
    conversation_length: int,
) -> tuple[list[float], int]:
    """Send ``messages`` to the REST channel, or GET ``url`` ``requests`` times if there are none.

    Returns the latency of each answered request, and how many requests failed.
    """
    client = uuid.uuid4().hex[:10]
    latencies: list[float] = []
    failures = 0
    for i in range(requests):
        sender = f"bench-{client}-{i // conversation_length}"
        started = time.perf_counter()
        try:
            if messages:
                message = {"sender": sender, "message": messages[i % len(messages)]}
                request = session.post(url, json=message)
            else:
                request = session.get(url)
            async with request as response:
                await response.read()
                response.raise_for_status()
            latencies.append(time.perf_counter() - started)
        except (aiohttp.ClientError, asyncio.TimeoutError):
            failures += 1
    return latencies, failures


async def run_level(
    url: str,
    plans: Sequence[Sequence[str] | None],
    requests_per_client: int,
    conversation_length: int = 10,
) -> LoadResult:
    """Run one client per plan at once; a plan lists the messages it sends (None: GET)."""
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    connector = aiohttp.TCPConnector(limit=len(plans) or 1)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        started = time.perf_counter()
        results = await asyncio.gather(
            *(
                one_client(session, url, plan, requests_per_client, conversation_length)
                for plan in plans
            )
        )
        wall = time.perf_counter() - started
    latencies = [latency for client_latencies, _ in results for latency in client_latencies]
    return LoadResult(len(plans), latencies, wall, sum(failures for _, failures in results))


def client_plans(messages: Sequence[str], clients: int) -> list[list[str]]:
    """The messages each client sends in turn: the same list, from a different offset."""
    stride = max(1, len(messages) // clients)
    return [
        [*messages[client * stride :], *messages[: client * stride]] for client in range(clients)
    ]


def measure_rest(
    url: str, messages: Sequence[str], clients: int, per_client: int, conversation_length: int
) -> LoadResult:
    """``clients`` concurrent clients on the REST channel, ``per_client`` messages each."""
    plans = client_plans(messages, clients)
    return asyncio.run(run_level(url, plans, per_client, conversation_length))


def measure_floor(url: str, clients: int, per_client: int) -> LoadResult:
    """The same load as GET ``url``: what the HTTP server costs without NLU or dialogue."""
    return asyncio.run(run_level(url, [None] * clients, per_client))

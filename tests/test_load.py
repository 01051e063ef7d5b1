"""Load: 32 conversations at once, 50 messages each, through the real REST channel.

Each conversation first picks one site with its button payload, then asks 49 questions from
the held-out NLU set that name no site. Afterwards the SQLite tracker store must hold every
message of every conversation, in order, and each conversation's ``site`` slot must still be
its own site: no message or slot leaked into another conversation.
"""

from __future__ import annotations

import random
import statistics
import uuid
from typing import Any

import pytest

from bot.evaluation.answers import sites_named
from bot.evaluation.examples import read_nlu
from bot.evaluation.load import Conversation, LoadResult, run_conversations
from bot.paths import HELDOUT
from bot.serve import Servers
from tests.helpers import FAILURE_REPLY, stored_events

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CONVERSATIONS = 32
MESSAGES_PER_CONVERSATION = 50
SITES = ("lung", "liver", "bones", "brain")
# Left out: these set or clear the site slot on purpose, which is not what is tested here.
SITE_INTENTS = {"site_symptoms", "symptom_worry"}


def messages_without_a_site() -> list[str]:
    """Held-out questions that name no site, covered or not (the words of sites.yml)."""
    return [
        e.text
        for e in read_nlu(HELDOUT)
        if e.intent not in SITE_INTENTS and not e.sites and not sites_named(e.text)
    ]


def payload(site: str) -> str:
    return f'/site_symptoms{{"site": "{site}"}}'


def conversations(pool: list[str]) -> list[Conversation]:
    chooser = random.Random(20240501)
    run_id = uuid.uuid4().hex[:6]
    return [
        Conversation(
            sender=f"load-{run_id}-{number:02d}",
            messages=[
                payload(SITES[number % len(SITES)]),
                *chooser.choices(pool, k=MESSAGES_PER_CONVERSATION - 1),
            ],
        )
        for number in range(CONVERSATIONS)
    ]


def failures(result: LoadResult) -> list[str]:
    """Failed requests, and replies that are the REST channel's failure reply."""
    replies = [reply for c in result.conversations for reply in c.replies if reply]
    failed = [part for reply in replies for part in reply if part.get("text") == FAILURE_REPLY]
    return result.errors + [f"failure reply: {part}" for part in failed]


def stored(servers: Servers) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """From the tracker store: each sender's user messages, and its last ``site`` slot value."""
    texts: dict[str, list[str]] = {}
    sites: dict[str, Any] = {}
    for sender, event in stored_events(servers, "load-%"):
        if event["event"] == "user":
            texts.setdefault(sender, []).append(event["text"])
        elif event["name"] == "site":
            sites[sender] = event["value"]
    return texts, sites


def test_32_concurrent_conversations_of_50_messages(
    servers: Servers, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"{servers.settings.rasa_url}/webhooks/rest/webhook"
    planned = conversations(messages_without_a_site())
    result = run_conversations(url, planned, timeout_s=300)
    latencies = result.latencies
    empty = sum(reply == [] for c in result.conversations for reply in c.replies)
    with capsys.disabled():
        print(
            f"\nload: {CONVERSATIONS} conversations x {MESSAGES_PER_CONVERSATION} messages = "
            f"{len(latencies)} requests in {result.wall_s:.0f} s ({result.throughput:.1f}/s); "
            f"latency p50 {statistics.median(latencies):.2f} s, p95 "
            f"{result.percentile_ms(95) / 1000:.2f} s, max {max(latencies):.2f} s; "
            f"empty replies {empty}"
        )
    assert failures(result) == []

    texts, sites = stored(servers)
    for number, conversation in enumerate(result.conversations):
        assert texts.get(conversation.sender) == conversation.messages, conversation.sender
        assert sites.get(conversation.sender) == SITES[number % len(SITES)], conversation.sender

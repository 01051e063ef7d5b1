"""make cluster's layout: replicas on PostgreSQL and Redis behind HAProxy (bot/serving/cluster.py).

One cluster of two replicas serves the module; the test that stops PostgreSQL starts it
again, and the last one crashes a replica under load.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import requests
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import paths
from bot.serving.balancer import replica_ports
from bot.serving.cluster import Cluster, cluster_on_loopback
from bot.serving.migrate import copy_conversations, postgres_store, sqlite_store
from bot.serving.stores import POSTGRES_DATABASE, POSTGRES_USER, postgres_password
from bot.settings import LOOPBACK, Settings
from tests.conftest import require_model
from tests.helpers import FAILURE_REPLY, WEBHOOK, Reply, new_sender, texts
from tests.test_stores import assert_whole_turns_in_order

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
CLIENTS = 4
MESSAGES_PER_CLIENT = 12
QUESTIONS = [
    "where does breast cancer spread?",
    "what is metastatic breast cancer?",
    "is it curable?",
    "how is it treated?",
]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    require_model()
    settings = cluster_on_loopback(tmp_path_factory.mktemp("cluster"))
    started = Cluster(settings)
    started.start()
    try:
        yield started
    finally:
        started.stop()
        shutil.rmtree(settings.postgres_dir.parent, ignore_errors=True)


def post(url: str, sender: str, message: str, timeout: float = 60) -> Reply:
    response = requests.post(
        f"{url}{WEBHOOK}", json={"sender": sender, "message": message}, timeout=timeout
    )
    response.raise_for_status()
    reply: Reply = response.json()
    return reply


def replica_urls(settings: Settings) -> list[str]:
    return [f"http://{LOOPBACK}:{port}" for port in replica_ports(settings)]


def stored(settings: Settings, sender: str, types: tuple[str, ...]) -> list[dict[str, Any]]:
    """``sender``'s events in PostgreSQL, in the order they were stored."""
    connection = psycopg2.connect(
        host=LOOPBACK,
        port=settings.postgres_port,
        user=POSTGRES_USER,
        password=postgres_password(settings),
        dbname=POSTGRES_DATABASE,
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT data FROM events WHERE sender_id = %s AND type_name = ANY(%s) ORDER BY id",
                (sender, list(types)),
            )
            return [json.loads(data) for (data,) in cursor.fetchall()]
    finally:
        connection.close()


def test_the_balancer_and_each_replica_answer_like_make_run(cluster: Cluster) -> None:
    for url in [cluster.settings.rasa_url, *replica_urls(cluster.settings)]:
        reply = post(url, new_sender("cluster"), "where does breast cancer spread?")
        assert all(site in texts(reply) for site in ("lung", "liver", "bones", "brain"))


def test_a_conversation_alternating_between_replicas_keeps_its_order_and_site(
    cluster: Cluster,
) -> None:
    sender = new_sender("alternate")
    first, second = replica_urls(cluster.settings)
    assert "nausea" in texts(post(first, sender, '/site_symptoms{"site": "liver"}'))
    post(second, sender, "what is metastatic breast cancer?")
    # No site named: the action reads the slot that the other replica set.
    assert "nausea" in texts(post(first, sender, "/site_symptoms"))
    slots = [e["value"] for e in stored(cluster.settings, sender, ("slot",)) if e["name"] == "site"]
    assert slots[-1] == "liver"
    users = [e["text"] for e in stored(cluster.settings, sender, ("user",))]
    assert users == [
        '/site_symptoms{"site": "liver"}',
        "what is metastatic breast cancer?",
        "/site_symptoms",
    ]


def test_two_replicas_keep_one_conversation_in_order_with_every_turn(cluster: Cluster) -> None:
    sender = new_sender("concurrent")
    errors: list[BaseException] = []
    sent = {
        url: [f"{question} ({number} via {url})" for number, question in enumerate(QUESTIONS)]
        for url in replica_urls(cluster.settings)
    }

    def client(url: str) -> None:
        try:
            for message in sent[url]:
                post(url, sender, message)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=client, args=(url,)) for url in sent]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert_whole_turns_in_order(stored(cluster.settings, sender, ("user", "action")), sent)


def test_postgresql_stopping_while_serving_is_named_in_the_log_and_does_not_hang(
    cluster: Cluster,
) -> None:
    cluster.postgres.stop()
    try:
        started = time.monotonic()
        reply = post(cluster.settings.rasa_url, new_sender("pg-down"), "is it curable?", 30)
        assert reply  # Rasa answers from memory, as its FailSafeTrackerStore does
        assert time.monotonic() - started < 30
    finally:
        cluster.postgres.start(cluster.settings)
        cluster.wait_until_ready(cluster.postgres, timeout_s=60)
    logs = "".join(
        (cluster.settings.log_dir / f"{replica.name}.log").read_text(encoding="utf-8")
        for replica in cluster.replicas
    )
    assert f"The tracker store postgresql at {LOOPBACK}:{cluster.settings.postgres_port}" in logs


def test_migrate_copies_sqlite_conversations_to_postgresql_once(
    cluster: Cluster, tmp_path: Path
) -> None:
    sender = new_sender("migrated")
    db = tmp_path / "tracker.db"
    events = [SessionStarted(), ActionExecuted("action_listen"), UserUttered("is it curable?")]
    events += [SlotSet("site", "bones"), ActionExecuted("utter_curable")]
    writer = SQLTrackerStore(Domain.load(str(paths.DOMAIN)), dialect="sqlite", db=str(db))
    asyncio.run(writer.save(DialogueStateTracker.from_events(sender, events)))
    sqlite = sqlite_store(db)
    first = copy_conversations(sqlite, postgres_store(cluster.settings))
    again = copy_conversations(sqlite, postgres_store(cluster.settings))
    assert (first.conversations, first.events) == (1, len(events))
    assert (again.conversations, again.skipped) == (0, first.skipped + 1)
    copied = stored(cluster.settings, sender, ("session_started", "action", "user", "slot"))
    assert copied == [event.as_dict() for event in events]


class Load:
    """``CLIENTS`` conversations sent through the balancer at once, each message checked."""

    def __init__(self, cluster: Cluster) -> None:
        self.url = cluster.settings.rasa_url
        self.senders = [new_sender("load") for _ in range(CLIENTS)]
        self.sent: dict[str, list[str]] = {sender: [] for sender in self.senders}
        self.failures: list[str] = []
        self.threads = [threading.Thread(target=self.client, args=(s,)) for s in self.senders]

    def client(self, sender: str) -> None:
        for number in range(MESSAGES_PER_CLIENT):
            message = f"{QUESTIONS[number % len(QUESTIONS)]} ({number})"
            self.sent[sender].append(message)
            try:
                reply = post(self.url, sender, message)
                if not reply or reply[0].get("text") == FAILURE_REPLY:
                    self.failures.append(f"{sender} {number}: {reply}")
            except requests.RequestException as error:
                self.failures.append(f"{sender} {number}: {error}")

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        time.sleep(2)  # under way
        return self

    def __exit__(self, *_: object) -> None:
        for thread in self.threads:
            thread.join()


def test_a_replica_crashing_under_load_loses_no_turn(cluster: Cluster) -> None:
    replica = cluster.replicas[1]
    assert replica.process is not None
    with Load(cluster) as load:
        os.killpg(replica.process.pid, signal.SIGKILL)
    assert load.failures == []
    for sender, messages in load.sent.items():
        # A turn the replica stored just before it died and before it answered is sent again
        # to the other replica, with the same request id: it is not stored twice.
        assert [e["text"] for e in stored(cluster.settings, sender, ("user",))] == messages

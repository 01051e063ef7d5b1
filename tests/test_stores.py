"""The lock store (Redis) and the tracker stores when they are down, and make run's replicas.

Each test starts its own servers: a Rasa server whose store does not answer, or the servers
of ``make run`` with two Rasa replicas behind HAProxy, sharing one SQLite file and the
private Redis.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bot import paths
from bot.evaluation.load import Conversation, run_conversations
from bot.evaluation.processes import cpu_seconds
from bot.serve import Server, Servers, rasa_command, write_credentials
from bot.serving.cluster import ENDPOINTS as CLUSTER_ENDPOINTS
from bot.serving.lock_store import AtomicRedisLockStore
from bot.settings import LOOPBACK, Settings
from tests.conftest import StartServers, require_model
from tests.helpers import FAILURE_REPLY, new_sender, send, stored_events, texts

STOP_TIMEOUT_S = 300


def log_of_a_rasa_that_stops(settings: Settings, endpoints: Path) -> str:
    """Start ``rasa run`` alone (its stores are not started); its log once it has stopped."""
    require_model()
    write_credentials(settings)
    settings.tracker_db.parent.mkdir(parents=True, exist_ok=True)
    rasa = Server("rasa", rasa_command(settings, endpoints), f"{settings.rasa_url}/")
    rasa.start(settings)
    assert rasa.process is not None
    try:
        rasa.process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"rasa run did not stop in {STOP_TIMEOUT_S} s without its store")
    finally:
        rasa.stop()
    return (settings.log_dir / "rasa.log").read_text(encoding="utf-8")


@pytest.mark.e2e
@pytest.mark.slow
def test_redis_down_at_start_stops_rasa_with_an_error_naming_it(tmp_path: Path) -> None:
    settings = Settings.on_loopback(tmp_path)
    log = log_of_a_rasa_that_stops(settings, paths.ENDPOINTS)
    assert f"The Redis lock store at {LOOPBACK}:{settings.redis_port} does not answer" in log


@pytest.mark.e2e
@pytest.mark.slow
def test_postgresql_down_at_start_stops_rasa_with_an_error_naming_it(tmp_path: Path) -> None:
    settings = Settings.on_loopback(tmp_path, extra_env={"POSTGRES_PASSWORD": "unused"})
    log = log_of_a_rasa_that_stops(settings, CLUSTER_ENDPOINTS)
    address = f"postgresql at {LOOPBACK}:{settings.postgres_port}, database rasa"
    assert f"The tracker store {address} does not answer" in log


def test_a_message_waiting_behind_a_crashed_one_is_served_when_that_ticket_expires(
    redis_lock_store: AtomicRedisLockStore,
) -> None:
    redis_lock_store.issue_ticket("crashed", lock_lifetime=2)  # never finished

    async def next_message() -> float:
        started = time.monotonic()
        async with redis_lock_store.lock("crashed", lock_lifetime=2, wait_time_in_seconds=0.2):
            return time.monotonic() - started

    # Upstream, the waiting ticket expires with the crashed one and is never served.
    assert 1.5 < asyncio.run(asyncio.wait_for(next_message(), timeout=20)) < 10


def test_tickets_are_issued_in_rasas_format_and_served_in_order(
    redis_lock_store: AtomicRedisLockStore,
) -> None:
    numbers = [redis_lock_store.issue_ticket("order") for _ in range(3)]
    lock = redis_lock_store.get_lock("order")  # Rasa's own reading of the stored lock
    assert lock is not None and lock.conversation_id == "order"
    assert numbers == [ticket.number for ticket in lock.tickets] == [0, 1, 2]
    assert lock.now_serving == 0 and not lock.is_locked(0) and lock.is_locked(1)
    redis_lock_store.cleanup("order", 1)  # a waiting ticket given up
    lock = redis_lock_store.get_lock("order")
    assert lock is not None and [ticket.number for ticket in lock.tickets] == [0, 2]
    for number in (0, 2):
        redis_lock_store.cleanup("order", number)
    assert redis_lock_store.get_lock("order") is None  # no one waits: the lock is gone


def test_the_next_message_gets_the_lock_well_within_rasas_second(
    redis_lock_store: AtomicRedisLockStore,
) -> None:
    async def wait_after_release() -> float:
        first = redis_lock_store.lock("soon")
        await first.__aenter__()

        async def second() -> float:
            async with redis_lock_store.lock("soon"):
                return time.monotonic()

        waiting = asyncio.create_task(second())
        await asyncio.sleep(0.1)
        released = time.monotonic()
        await first.__aexit__(None, None, None)
        return await waiting - released

    # Rasa polls every second by default, so its second message would wait about 0.9 s.
    assert asyncio.run(wait_after_release()) < 0.5


def test_tickets_taken_at_once_are_all_different(redis_lock_store: AtomicRedisLockStore) -> None:
    taken: list[int] = []

    def take() -> None:
        for _ in range(20):
            taken.append(redis_lock_store.issue_ticket("at-once"))

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == list(range(80))


def test_expired_tickets_are_dropped_and_waiting_ones_renewed(
    redis_lock_store: AtomicRedisLockStore,
) -> None:
    redis_lock_store.issue_ticket("renew", lock_lifetime=0.5)  # served, then its process dies
    waiting = redis_lock_store.issue_ticket("renew", lock_lifetime=0.5)
    redis_lock_store.update_lock("renew")  # as a waiting process does while it polls
    time.sleep(1)
    lock = redis_lock_store.get_lock("renew")
    assert lock is not None and lock.now_serving == waiting


@pytest.fixture(scope="module")
def two_replicas(start_servers: StartServers) -> Servers:
    """make run's layout: two replicas behind HAProxy, one SQLite file, the private Redis."""
    return start_servers(replicas=2)


@pytest.mark.e2e
@pytest.mark.slow
def test_redis_stopping_while_serving_gets_an_apology_fast_then_recovers(
    two_replicas: Servers,
) -> None:
    sender = new_sender("redis-down")
    assert "brain" in texts(send(two_replicas, sender, "where does breast cancer spread?"))
    two_replicas.redis.stop()
    try:
        started = time.monotonic()
        reply = send(two_replicas, sender, "is it curable?", timeout=30)
        assert [message["text"] for message in reply] == [FAILURE_REPLY]
        assert time.monotonic() - started < 30
    finally:
        two_replicas.redis.start(two_replicas.settings)
        two_replicas.wait_until_ready(two_replicas.redis, timeout_s=30)
    logs = [two_replicas.settings.log_dir / f"{r.name}.log" for r in two_replicas.replicas]
    log = "".join(path.read_text(encoding="utf-8") for path in logs)
    assert f"The Redis lock store at {LOOPBACK}:{two_replicas.settings.redis_port}" in log
    assert "brain" in texts(send(two_replicas, sender, "where does breast cancer spread?"))


MESSAGES = [
    "where does breast cancer spread?",
    "what is metastatic breast cancer?",
    "is it curable?",
    "how is it treated?",
    "what are the symptoms?",
    "thank you",
]


@pytest.mark.e2e
@pytest.mark.slow
def test_two_replicas_keep_one_conversation_in_order_with_every_turn(two_replicas: Servers) -> None:
    sender = new_sender("workers")
    errors: list[BaseException] = []

    def client(tag: str) -> None:
        try:
            for message in MESSAGES:
                send(two_replicas, sender, f"{message} ({tag})")
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    clients = [threading.Thread(target=client, args=(tag,)) for tag in "ab"]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    assert not errors
    events = [event for _, event in stored_events(two_replicas, sender, ("user", "action"))]
    assert_whole_turns_in_order(events, {tag: [f"{m} ({tag})" for m in MESSAGES] for tag in "ab"})


@pytest.mark.e2e
@pytest.mark.slow
def test_connections_opened_at_once_are_served_by_both_replicas(two_replicas: Servers) -> None:
    workers = [replica.process.pid for replica in two_replicas.replicas if replica.process]
    before = {pid: cpu_seconds(pid) for pid in workers}
    # One aiohttp session: its connections are all opened at the start, at once.
    people = [Conversation(new_sender("burst"), ["where does it spread?"] * 6) for _ in range(8)]
    result = run_conversations(f"{two_replicas.settings.rasa_url}/webhooks/rest/webhook", people)
    assert not [error for person in result.conversations for error in person.errors]
    used = sorted(cpu_seconds(pid) - before[pid] for pid in workers)
    assert len(used) == 2 and used[0] > used[1] / 4  # both worked, not one alone


def assert_whole_turns_in_order(events: list[dict[str, Any]], sent: dict[str, list[str]]) -> None:
    """Each message stored once, each client's in the order sent, each turn whole."""
    users = [event["text"] for event in events if event["event"] == "user"]
    assert sorted(users) == sorted(text for texts_ in sent.values() for text in texts_)
    for texts_ in sent.values():
        assert [text for text in users if text in texts_] == texts_
    # A turn ends with action_listen before the next user message begins.
    previous = None
    for event in events:
        if event["event"] == "user" and previous is not None:
            assert previous == "action_listen", events
        if event["event"] == "action":
            previous = event["name"]


def test_make_run_has_one_replica_per_core_by_default() -> None:
    assert Settings.from_environment({}).replicas == (os.cpu_count() or 1)

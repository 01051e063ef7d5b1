"""The tracker store that loads the recent turns only (bot/serving/tracker_store.py).

Each test pins one upstream behaviour the store relies on, or checks that a conversation
served from it gets the same answers and stores the same events as with Rasa's own store.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
    deserialise_events,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import paths
from bot.serve import actions_server
from bot.serving.tracker_store import (
    DEFAULT_RECENT_TURNS,
    REQUEST_ID,
    RecentTurnsTrackerStore,
    TrackerStoreUnavailable,
    deserialised,
    slot_events_to_keep,
)
from bot.settings import Settings
from tests.conftest import require_model

DOMAIN = Domain.load(str(paths.DOMAIN))
SENDER = "pinned"


def turn(text: str, answer: str = "utter_greet") -> list[Event]:
    return [
        UserUttered(text, {"name": "greet", "confidence": 1.0}),
        ActionExecuted(answer),
        BotUttered(text=f"answer to {text}"),
        ActionExecuted("action_listen"),
    ]


def conversation(turns: int, site_at: int = 1) -> list[Event]:
    events: list[Event] = [SessionStarted(), ActionExecuted("action_listen")]
    for number in range(turns):
        events += turn(f"message {number}")
        if number == site_at:
            events.insert(-1, SlotSet("site", "liver"))
    return events


def store_in(
    db: Path, store_class: type[SQLTrackerStore] = RecentTurnsTrackerStore, recent_turns: int = 2
) -> Any:
    return store_class(DOMAIN, dialect="sqlite", db=str(db), recent_turns=recent_turns)


def save(store: SQLTrackerStore, events: list[Event]) -> None:
    asyncio.run(store.save(DialogueStateTracker.from_events(SENDER, events, DOMAIN.slots)))


def retrieve(store: SQLTrackerStore) -> DialogueStateTracker:
    tracker = asyncio.run(store.retrieve(SENDER))
    assert tracker is not None
    return tracker


def stored_rows(db: Path) -> list[tuple[str, str | None]]:
    with sqlite3.connect(db) as connection:
        query = "SELECT type_name, action_name FROM events ORDER BY id"
        return connection.execute(query).fetchall()


def test_upstream_stores_the_slot_name_of_a_slot_set_in_the_action_name_column(
    tmp_path: Path,
) -> None:
    save(store_in(tmp_path / "t.db", SQLTrackerStore), conversation(2))
    assert ("slot", "site") in stored_rows(tmp_path / "t.db")


def test_upstream_save_appends_the_events_after_the_count_of_stored_ones(tmp_path: Path) -> None:
    # What this store changes: Rasa counts the session's stored events to find the new ones.
    upstream = store_in(tmp_path / "t.db", SQLTrackerStore)
    save(upstream, conversation(3))
    tracker = retrieve(upstream)
    tracker.update_with_events(turn("one more"), DOMAIN)
    with upstream.session_scope() as session:
        new = list(upstream._additional_events(session, tracker))
    assert [event.type_name for event in new] == ["user", "action", "bot", "action"]


def test_only_the_recent_turns_are_loaded_with_the_current_slots(tmp_path: Path) -> None:
    store = store_in(tmp_path / "t.db")
    save(store, conversation(8))
    tracker = retrieve(store)
    texts = [event.text for event in tracker.events if isinstance(event, UserUttered)]
    assert texts == ["message 6", "message 7"]
    assert tracker.get_slot("site") == "liver"
    assert tracker.get_slot("emergency_number") == "911"  # initial values stay


def test_save_after_a_trimmed_load_appends_every_new_event_once(tmp_path: Path) -> None:
    store = store_in(tmp_path / "t.db")
    save(store, conversation(8))
    before = stored_rows(tmp_path / "t.db")
    tracker = retrieve(store)
    tracker.update_with_events(turn("message 8"), DOMAIN)
    asyncio.run(store.save(tracker))
    asyncio.run(store.save(tracker))  # a second save of the same tracker adds nothing
    after = stored_rows(tmp_path / "t.db")
    assert after[: len(before)] == before
    assert after[len(before) :] == [
        ("user", None),
        ("action", "utter_greet"),
        ("bot", None),
        ("action", "action_listen"),
    ]


def all_columns(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as connection:
        query = "SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events"
        return connection.execute(f"{query} ORDER BY id").fetchall()


def test_save_stores_the_rows_rasa_stores(tmp_path: Path) -> None:
    events = conversation(3)
    events[3:3] = [UserUttered("hi", {"name": "greet", "confidence": 0.9}, metadata={"a": 1})]
    for name, store_class in (
        ("upstream.db", SQLTrackerStore),
        ("ours.db", RecentTurnsTrackerStore),
    ):
        save(store_in(tmp_path / name, store_class), events)
    assert all_columns(tmp_path / "ours.db") == all_columns(tmp_path / "upstream.db")


def test_the_latest_session_is_loaded_as_rasa_loads_it(tmp_path: Path) -> None:
    earlier = conversation(2)
    latest = conversation(2)  # made later: its events have later timestamps
    store = store_in(tmp_path / "t.db", recent_turns=10)
    save(store, [*earlier, *latest])
    upstream = store_in(tmp_path / "t.db", SQLTrackerStore)
    assert list(retrieve(store).events) == list(retrieve(upstream).events) == latest


def test_events_are_deserialised_as_rasa_does() -> None:
    events = [*conversation(3), UserUtteranceReverted(), Restarted(), *conversation(1)]
    dumps = [event.as_dict() for event in events]
    dumps.append({"timestamp": 1.0})  # no "event": skipped, as Rasa skips it
    assert deserialised(dumps) == deserialise_events(dumps) == events


def requested(request_id: str) -> list[Event]:
    message = UserUttered("where does it spread", metadata={REQUEST_ID: request_id})
    return [message, *turn("where does it spread")[1:]]


def test_a_request_sent_again_is_stored_once(tmp_path: Path) -> None:
    store = store_in(tmp_path / "t.db")
    save(store, [*conversation(1), *requested("a1")])
    before = stored_rows(tmp_path / "t.db")
    for request_id, stored_again in (("a1", False), ("b2", True)):
        tracker = retrieve(store)  # as the replica the balancer sends the request to again
        tracker.update_with_events(requested(request_id), DOMAIN)
        asyncio.run(store.save(tracker))
        assert (len(stored_rows(tmp_path / "t.db")) > len(before)) is stored_again


def test_sqlite_is_opened_once_not_for_every_message(tmp_path: Path) -> None:
    store = store_in(tmp_path / "t.db")
    connections: list[Any] = []
    sa.event.listen(store.engine, "connect", lambda connection, _: connections.append(connection))
    save(store, conversation(2))
    for _ in range(3):
        tracker = retrieve(store)
        tracker.update_with_events(turn("again"), DOMAIN)
        asyncio.run(store.save(tracker))
    assert len(connections) == 1
    with sqlite3.connect(tmp_path / "t.db") as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_upstream_sqlite_engine_opens_the_file_for_every_session(tmp_path: Path) -> None:
    """Why the store keeps a connection: SQLAlchemy 1.4's default pool for a SQLite file."""
    upstream = store_in(tmp_path / "t.db", SQLTrackerStore)
    assert isinstance(upstream.engine.pool, sa.pool.NullPool)


def test_a_rewind_in_the_left_out_turns_loads_the_whole_session(tmp_path: Path) -> None:
    store = store_in(tmp_path / "t.db")
    events = conversation(8)
    events[10:10] = [UserUtteranceReverted()]
    save(store, events)
    assert len(retrieve(store).events) == len(events)


def test_a_failing_database_raises_an_error_naming_the_store(tmp_path: Path) -> None:
    store = store_in(tmp_path / "t.db")
    with sqlite3.connect(tmp_path / "t.db") as connection:
        connection.execute("DROP TABLE events")
    with pytest.raises(TrackerStoreUnavailable) as raised:
        retrieve(store)
    assert str(raised.value) == (
        f"The tracker store SQLite file {tmp_path / 't.db'} fails: no such table: events"
    )


@pytest.mark.parametrize(
    ("left_out", "kept"),
    [
        ([("session_started", None, 1), ("slot", "site", 5), ("user", None, 9)], [5]),
        ([("slot", "site", 5), ("restart", None, 7)], []),
        ([("session_started", None, 1), ("active_loop", "a_form", 4)], None),
    ],
)
def test_slot_events_to_keep(left_out: list[tuple[str, str | None, int]], kept: Any) -> None:
    assert slot_events_to_keep(left_out) == kept


def test_endpoints_use_this_store_with_enough_turns_for_the_policies() -> None:
    store = yaml.safe_load(paths.ENDPOINTS.read_text(encoding="utf-8"))["tracker_store"]
    assert store["type"] == "bot.serving.tracker_store.RecentTurnsTrackerStore"
    config = yaml.safe_load(paths.CONFIG.read_text(encoding="utf-8"))
    histories = [p.get("max_history", 0) or 0 for p in config["policies"]]
    rules = yaml.safe_load(paths.RULES.read_text(encoding="utf-8"))["rules"]
    longest_rule = max(len(rule["steps"]) for rule in rules)
    # A turn has at least two dialogue states (the user message, the answer).
    states = 2 * store.get("recent_turns", DEFAULT_RECENT_TURNS)
    assert states > max(histories)
    assert states > longest_rule


# A long conversation with site questions, follow-ups that read the slot, and small talk.
MESSAGES = [
    "hello",
    "where does breast cancer spread?",
    '/site_symptoms{"site": "liver"}',
    "what are the symptoms there?",
    "what is metastatic breast cancer?",
    "is it curable?",
    "how is it treated?",
    "thank you",
    "what about the bones?",
    "and what are the symptoms?",
    "can it spread to the brain",
    "what symptoms would I notice",
] * 3


@pytest.fixture(scope="module")
def action_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EndpointConfig]:
    settings = Settings.on_loopback(tmp_path_factory.mktemp("actions"))
    server = actions_server(settings)
    server.start(settings)
    try:
        yield EndpointConfig(settings.action_server_url)
    finally:
        server.stop()


def serve_conversation(store: SQLTrackerStore, action_endpoint: EndpointConfig) -> list[Any]:
    from rasa.core.agent import Agent

    async def chat() -> list[Any]:
        agent = Agent.load(str(paths.MODEL), tracker_store=store, action_endpoint=action_endpoint)
        return [await agent.handle_text(message, sender_id=SENDER) for message in MESSAGES]

    return asyncio.run(chat())


@pytest.mark.slow
def test_a_long_conversation_gets_the_same_answers_and_stored_events(
    tmp_path: Path, action_endpoint: EndpointConfig
) -> None:
    require_model()
    upstream_replies = serve_conversation(
        store_in(tmp_path / "upstream.db", SQLTrackerStore), action_endpoint
    )
    recent_replies = serve_conversation(store_in(tmp_path / "recent.db"), action_endpoint)
    assert recent_replies == upstream_replies
    assert stored_rows(tmp_path / "recent.db") == stored_rows(tmp_path / "upstream.db")

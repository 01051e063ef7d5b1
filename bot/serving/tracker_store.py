"""A SQL tracker store whose cost per message does not grow with the conversation.

Rasa's ``SQLTrackerStore.retrieve`` reads and replays every event of the conversation's
session; the policies then featurise all of it, and the action server receives all of it.
:class:`RecentTurnsTrackerStore` loads only the last ``recent_turns`` user turns of the
session, plus the latest ``SlotSet`` of each slot set before them, so the slots are current.
``save`` still appends every new event, so the full history stays stored (retention, review
and the tests read it).

Of the events left out, only the kinds are read (one grouped query), never the events. If
they hold an event that changes the state later on (a rewind, an undo, a form, a pause), the
whole session is loaded, exactly as Rasa does.

``endpoints.yml``::

    tracker_store:
      type: bot.serving.tracker_store.RecentTurnsTrackerStore
      dialect: sqlite          # or postgresql
      db: ${TRACKER_DB}
      recent_turns: 3          # optional: the default below
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, Event, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.orm import Session

from bot.serving.store_errors import naming_the_store

logger = logging.getLogger(__name__)

# A turn is two dialogue states or more (the user's message, each answer): 3 turns hold more
# than the MemoizationPolicy's max_history (4) and the longest rule (tests/test_tracker_store.py).
DEFAULT_RECENT_TURNS = 3
# Event types whose effect ends with their turn, so leaving them out changes nothing later on;
# "slot" events are left out too, but the latest one of each slot is loaded.
ENDS_WITH_ITS_TURN = frozenset(
    {
        "user",
        "bot",
        "action",
        "slot",
        "entities",
        "user_featurization",
        "followup",
        "action_execution_rejected",
    }
)
# Event types after which the slots start again from their initial values.
RESETS_SLOTS = frozenset({"session_started", "restart", "reset_slots"})
# In a user message's metadata: the id of the HTTP request that brought it (the REST channel
# sets it from the balancer's X-Request-ID). The same request sent again is not stored twice.
REQUEST_ID = "request_id"
# Set on each tracker this store loads: how many of its events are stored already.
STORED_EVENTS = "_stored_events_loaded"


def slot_events_to_keep(left_out: Iterable[tuple[str, str | None, int]]) -> list[int] | None:
    """The ids of the left-out events to load after all, or ``None`` to load every event.

    left_out: ``(type_name, action_name, latest id)`` of each kind of event left out. Rasa
        stores a ``SlotSet``'s slot name in ``action_name``, so each slot is a kind of its own.
    """
    latest = {(type_name, name): event_id for type_name, name, event_id in left_out}
    if any(type_name not in ENDS_WITH_ITS_TURN | RESETS_SLOTS for type_name, _ in latest):
        return None
    last_reset = max((i for (kind, _), i in latest.items() if kind in RESETS_SLOTS), default=0)
    return [i for (kind, _), i in latest.items() if kind == "slot" and i > last_reset]


class TrackerStoreUnavailable(RasaException):
    """The database does not answer; the message names it."""


def describe(options: dict[str, Any]) -> str:
    """``PostgreSQL at host:port, database db`` or ``SQLite file db``, from the store's options."""
    if options.get("dialect", "sqlite") == "sqlite":
        return f"SQLite file {options.get('db')}"
    dialect = options["dialect"]
    return f"{dialect} at {options.get('host')}:{options.get('port')}, database {options.get('db')}"


def check_reachable(options: dict[str, Any], address: str, timeout_s: int = 5) -> None:
    """Raise an error naming the database unless it answers within ``timeout_s``.

    Rasa's ``SQLTrackerStore`` retries a database that does not answer every 5 s, forever.
    """
    if options.get("dialect", "sqlite") == "sqlite":
        return
    names = ("dialect", "host", "port", "db", "username", "password", "login_db", "query")
    url = SQLTrackerStore.get_db_url(**{name: options[name] for name in names if name in options})
    engine = sa.create_engine(url, connect_args={"connect_timeout": timeout_s})
    failure = f"The tracker store {address} does not answer"
    try:
        with naming_the_store(failure, sa.exc.DBAPIError, TrackerStoreUnavailable, driver_error):
            engine.connect().close()
    finally:
        engine.dispose()


def driver_error(error: sa.exc.DBAPIError) -> object:
    """The driver's error only: SQLAlchemy's adds the statement and what the patient wrote."""
    return error.orig


@functools.cache
def event_class(type_name: str) -> type[Event] | None:
    """Rasa's ``Event.resolve_by_type``, which walks every subclass of ``Event`` on each call
    (a few ms per message): here once per type."""
    return Event.resolve_by_type(type_name)


def deserialised(dumps: Iterable[dict[str, Any]]) -> list[Event]:
    """Rasa's ``deserialise_events``, with each event's class looked up once."""
    events = []
    for dump in dumps:
        cls = event_class(dump["event"]) if "event" in dump else None
        event = cls._from_parameters(dump) if cls else None
        if event is not None:
            events.append(event)
    return events


def without_a_replayed_turn(sender_id: str, stored: list[Event], new: list[Event]) -> list[Event]:
    """``new``, or its events before its first user message if the request that brought that
    message is the last one ``stored`` (the recent turns loaded hold it): the balancer sent it
    again after a replica died between saving the turn and answering (``REQUEST_ID``)."""
    message = next((event for event in new if isinstance(event, UserUttered)), None)
    if message is None or not request_id_of(message):
        return new
    last_stored = next((e for e in reversed(stored) if isinstance(e, UserUttered)), None)
    if last_stored is None or request_id_of(last_stored) != request_id_of(message):
        return new
    logger.warning("Sender %s: a request sent again; its turn is stored already.", sender_id)
    return new[: new.index(message)]


def request_id_of(message: UserUttered) -> str | None:
    return (message.metadata or {}).get(REQUEST_ID)


def use_write_ahead_log(connection: Any, _: Any) -> None:
    """SQLite in WAL mode: readers do not wait for a writer (several Rasa processes share the
    file), and a commit needs no fsync of its own; a crash of the server loses nothing."""
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")


class EventQueries:
    """The store's SQL, built once, so SQLAlchemy compiles it once rather than on every message.

    Rasa's ``_event_query`` (the latest session's events) and its ``save`` rows, in SQLAlchemy
    Core; ``tests/test_tracker_store.py`` pins both against Rasa's own store.
    """

    def __init__(self, events: sa.Table, recent_turns: int) -> None:
        column = events.c
        sender = sa.bindparam("sender_id")
        session_start = (
            sa.select(sa.func.max(column.timestamp))
            .where(column.sender_id == sender, column.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        in_session = sa.and_(
            column.sender_id == sender,
            sa.or_(column.timestamp >= session_start, session_start.is_(None)),
        )
        # The id of the action_listen that starts the recent_turns-th last turn, or 0.
        listens = (
            sa.select(column.id)
            .where(
                in_session,
                column.type_name == ActionExecuted.type_name,
                column.action_name == ACTION_LISTEN_NAME,
            )
            .order_by(column.id.desc())
            .offset(recent_turns)
            .limit(1)
            .scalar_subquery()
        )
        cut = sa.func.coalesce(listens, 0)
        self.left_out_kinds = (
            sa.select(column.type_name, column.action_name, sa.func.max(column.id))
            .where(in_session, column.id < cut)
            .group_by(column.type_name, column.action_name)
        )
        kept = column.id.in_(sa.bindparam("kept", expanding=True))
        self.recent = (
            sa.select(column.data)
            .where(in_session, sa.or_(column.id >= cut, kept))
            .order_by(column.id)
        )
        self.whole_session = sa.select(column.data).where(in_session).order_by(column.id)
        self.insert = events.insert()


def event_row(sender_id: str, event: Event) -> dict[str, Any]:
    """The row Rasa's ``SQLTrackerStore.save`` stores for ``event``."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


class RecentTurnsTrackerStore(SQLTrackerStore):
    """Rasa's ``SQLTrackerStore``, loading the current slots and the recent turns only."""

    engine: sa.engine.Engine

    def __init__(
        self, domain: Any = None, recent_turns: int = DEFAULT_RECENT_TURNS, **kwargs: Any
    ) -> None:
        self.address = describe(kwargs)
        check_reachable(kwargs, self.address)
        super().__init__(domain, **kwargs)
        self.recent_turns = int(recent_turns)
        self._queries = EventQueries(self.SQLEvent.__table__, self.recent_turns)
        if self.engine.dialect.name == "sqlite":
            self._keep_a_connection_open()
        else:
            self._ping_before_use()

    def _keep_a_connection_open(self) -> None:
        """SQLAlchemy 1.4 opens and closes a file SQLite database for every session (a
        ``NullPool``), and closing the last connection checkpoints the write-ahead log: a few
        ms per message. Rasa serves a worker's messages on one thread, so a pooled
        connection is kept open instead."""
        self._replace_engine(poolclass=sa.pool.QueuePool, connect_args={"check_same_thread": False})
        sa.event.listen(self.engine, "connect", use_write_ahead_log)

    def _ping_before_use(self) -> None:
        """After the database restarts, the pool's old connections are tested and replaced,
        so no message fails on one (Rasa's engine does not ping them)."""
        self._replace_engine(pool_pre_ping=True, **create_engine_kwargs(self.engine.url))

    def _replace_engine(self, **options: Any) -> None:
        """Rasa's engine made again with ``options``, and the sessions bound to the new one."""
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, **options)
        self.sessionmaker = sa.orm.sessionmaker(bind=self.engine)

    def _naming_the_store(self) -> AbstractContextManager[None]:
        failure = f"The tracker store {self.address} fails"
        return naming_the_store(
            failure, sa.exc.OperationalError, TrackerStoreUnavailable, driver_error
        )

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The latest session's recent turns and current slots (see the module docstring)."""
        with self._naming_the_store(), self.session_scope() as session:
            events = list(self._recent_events(session, sender_id))
        if not (self.domain and events):
            return None
        tracker = DialogueStateTracker.from_events(
            sender_id, deserialised(events), self.domain.slots
        )
        setattr(tracker, STORED_EVENTS, len(events))
        return tracker

    def _recent_events(self, session: Session, sender_id: str) -> Iterator[dict[str, Any]]:
        """Two queries whatever the history's length: the kinds of events left out, the rest."""
        queries, sender = self._queries, {"sender_id": sender_id}
        kept = slot_events_to_keep(session.execute(queries.left_out_kinds, sender))
        if kept is None:
            rows = session.execute(queries.whole_session, sender)
        else:
            rows = session.execute(queries.recent, {**sender, "kept": kept})
        for (data,) in rows:
            yield json.loads(data)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the tracker's new events, as Rasa does, in one statement; a second save of
        the same tracker appends nothing again."""
        await self.stream_events(tracker)
        with self._naming_the_store(), self.session_scope() as session:
            rows = [
                event_row(tracker.sender_id, event)
                for event in self._additional_events(session, tracker)
            ]
            if rows:
                session.execute(self._queries.insert, rows)
                session.commit()
        setattr(tracker, STORED_EVENTS, len(tracker.events))

    def _additional_events(self, session: Session, tracker: DialogueStateTracker) -> Iterator:
        """The tracker's events after those it was loaded with: the ones not stored yet.

        Rasa counts the session's stored events instead, which is right only for a tracker
        that holds all of them; a tracker this store did not load (a new one) still is.
        """
        stored = getattr(tracker, STORED_EVENTS, None)
        if stored is None:
            return super()._additional_events(session, tracker)
        events = list(tracker.events)
        return iter(without_a_replayed_turn(tracker.sender_id, events[:stored], events[stored:]))

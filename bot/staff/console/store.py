"""What the console reads from Rasa's SQLite tracker store, and the review notes it keeps there.

Each conversation is read as its turns: a user message with the actions and replies after it,
explained the way ``make ask`` explains a turn (``bot.staff.ask``). Ratings are the
``rate_answer`` messages (``bot.feedback``) right after the turn they rate. Trial conversations
(``TRIAL_PREFIX``) are left out of everything here.

Staff notes live in the table ``staff_reviews`` of the same database. A trigger deletes a note
when its message's event is deleted, so ``make retention`` deletes the notes with their
conversations without knowing about them.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from bot.feedback import COMMENT_ENTITY, HELPFUL_ENTITY, RATING_INTENT
from bot.staff.ask import Turn, add_events, turn_from_parse, user_slots

TRIAL_PREFIX = "staff-try-"
# Answered, but with less confidence than this: worth a look (the fallback is at 0.3).
LOW_CONFIDENCE = 0.6
NLU_FALLBACK = "nlu_fallback"
DECLINED_INTENTS = {"out_of_scope", NLU_FALLBACK}
DECLINED_ACTIONS = {"utter_out_of_scope", "utter_default", "utter_site_not_covered"}
SAFETY_INTENTS = {"emergency", "self_harm"}
KINDS = ("rated_no", "declined", "emergency", "low_confidence")
CONTEXT_BEFORE = 2
CONTEXT_AFTER = 1
LOCK_TIMEOUT_S = 30.0

NOTES_SCHEMA = """
CREATE TABLE IF NOT EXISTS staff_reviews (
    event_id INTEGER PRIMARY KEY,
    sender_id TEXT NOT NULL,
    reviewed_at REAL NOT NULL,
    note TEXT NOT NULL,
    suggested_intent TEXT
);
CREATE TRIGGER IF NOT EXISTS staff_reviews_go_with_their_events AFTER DELETE ON events
BEGIN
    DELETE FROM staff_reviews WHERE event_id = OLD.id;
END;
"""


@dataclass
class StoredTurn:
    """One user message of a real conversation, explained, with its rating if it got one."""

    id: int
    sender: str
    timestamp: float
    turn: Turn
    rating: str | None = None
    comments: list[str] = field(default_factory=list)

    @property
    def intent(self) -> str:
        return str(self.turn.intent.get("name") or "")

    @property
    def confidence(self) -> float:
        value = self.turn.intent.get("confidence")
        return float(value) if isinstance(value, (int, float)) else 0.0

    @property
    def is_rating(self) -> bool:
        return self.intent == RATING_INTENT

    def kinds(self) -> list[str]:
        """The review lists this message belongs to."""
        if self.is_rating:
            return []
        actions = {step.name for step in self.turn.actions}
        actions |= {reply.source for reply in self.turn.replies}
        kinds = []
        if self.rating == "no":
            kinds.append("rated_no")
        declined = self.intent in DECLINED_INTENTS or bool(actions & DECLINED_ACTIONS)
        if declined:
            kinds.append("declined")
        safety = self.intent in SAFETY_INTENTS or bool(self.turn.red_flag)
        if safety:
            kinds.append("emergency")
        if not declined and not safety and self.confidence < LOW_CONFIDENCE:
            kinds.append("low_confidence")
        return kinds

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time": iso_time(self.timestamp),
            "rating": self.rating,
            "comments": self.comments,
            **asdict(self.turn),
        }


def iso_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds")


def entity_value(turn: Turn, name: str) -> str | None:
    for entity in turn.entities:
        if entity.get("entity") == name:
            return str(entity.get("value"))
    return None


@contextmanager
def connect(db: Path) -> Iterator[sqlite3.Connection]:
    """A connection to the tracker store, with the notes table and its trigger in place."""
    with closing(sqlite3.connect(db, timeout=LOCK_TIMEOUT_S)) as connection:
        if has_events_table(connection):
            connection.executescript(NOTES_SCHEMA)
        yield connection


def has_events_table(connection: sqlite3.Connection) -> bool:
    row = connection.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'"
    ).fetchone()
    return row is not None


def event_rows(
    connection: sqlite3.Connection, sender: str | None = None, after_id: int = 0
) -> list[tuple[int, str, float, str]]:
    """``(id, sender, timestamp, data)`` of the events of one conversation, or of all real ones."""
    if not has_events_table(connection):
        return []
    if sender is not None:
        query = "SELECT id, sender_id, timestamp, data FROM events WHERE sender_id = ? AND id > ?"
        return connection.execute(query + " ORDER BY id", (sender, after_id)).fetchall()
    query = "SELECT id, sender_id, timestamp, data FROM events WHERE sender_id NOT LIKE ?"
    return connection.execute(query + " ORDER BY sender_id, id", (f"{TRIAL_PREFIX}%",)).fetchall()


def turns_from_rows(rows: list[tuple[int, str, float, str]]) -> list[StoredTurn]:
    """The user turns of event rows (ordered by conversation, then by id), explained."""
    from rasa.shared.core.events import Event, SlotSet, UserUttered

    turns: list[StoredTurn] = []
    pending: list[Any] = []
    slots: dict[str, dict[str, Any]] = {}

    def close_turn() -> None:
        if turns and pending:
            add_events(turns[-1].turn, pending)
        if turns:
            turns[-1].turn.slots = user_slots(dict(slots.get(turns[-1].sender, {})))
        pending.clear()

    for event_id, sender, timestamp, data in rows:
        event = Event.from_parameters(json.loads(data))
        if isinstance(event, SlotSet):
            slots.setdefault(sender, {})[event.key] = event.value
        if isinstance(event, UserUttered):
            close_turn()
            parse = event.parse_data or {}
            turn = turn_from_parse(event.text or "", dict(parse))
            turns.append(StoredTurn(event_id, sender, timestamp, turn))
        elif turns and turns[-1].sender == sender:
            pending.append(event)
    close_turn()
    return turns


def with_ratings(turns: list[StoredTurn]) -> list[StoredTurn]:
    """The turns, each rated one with its last rating and every comment given on it."""
    rated: StoredTurn | None = None
    for stored in turns:
        if rated is not None and rated.sender != stored.sender:
            rated = None
        if not stored.is_rating:
            rated = stored
            continue
        if rated is None:
            continue
        rated.rating = entity_value(stored.turn, HELPFUL_ENTITY) or rated.rating
        comment = entity_value(stored.turn, COMMENT_ENTITY)
        if comment:
            rated.comments.append(comment)
    return turns


class TrackerStore:
    """The real conversations of the SQLite tracker store at ``db``."""

    def __init__(self, db: Path) -> None:
        self.db = db

    def turns(self) -> list[StoredTurn]:
        if not self.db.exists():
            return []
        with connect(self.db) as connection:
            return with_ratings(turns_from_rows(event_rows(connection)))

    def last_event_id(self, sender: str) -> int:
        if not self.db.exists():
            return 0
        with connect(self.db) as connection:
            if not has_events_table(connection):
                return 0
            row = connection.execute(
                "SELECT MAX(id) FROM events WHERE sender_id = ?", (sender,)
            ).fetchone()
        return int(row[0] or 0)

    def trial_turns(self, sender: str, after_id: int) -> list[StoredTurn]:
        """The turns of trial conversation ``sender`` stored after event ``after_id``."""
        with connect(self.db) as connection:
            return turns_from_rows(event_rows(connection, sender, after_id))

    def notes(self) -> dict[int, dict[str, Any]]:
        if not self.db.exists():
            return {}
        with connect(self.db) as connection:
            if not has_events_table(connection):
                return {}
            rows = connection.execute(
                "SELECT event_id, reviewed_at, note, suggested_intent FROM staff_reviews"
            ).fetchall()
        return {
            event_id: {"time": iso_time(at), "note": note, "suggested_intent": intent}
            for event_id, at, note, intent in rows
        }

    def mark_reviewed(self, event_id: int, note: str, suggested_intent: str | None) -> bool:
        """Store a note on a real user message; False if there is no such message."""
        with connect(self.db) as connection, connection:
            row = connection.execute(
                "SELECT sender_id FROM events WHERE id = ? AND type_name = 'user'"
                " AND sender_id NOT LIKE ?",
                (event_id, f"{TRIAL_PREFIX}%"),
            ).fetchone()
            if row is None:
                return False
            connection.execute(
                "INSERT OR REPLACE INTO staff_reviews VALUES (?, ?, ?, ?, ?)",
                (event_id, row[0], time.time(), note, suggested_intent),
            )
        return True


def review_items(turns: list[StoredTurn], notes: dict[int, dict[str, Any]], kind: str) -> list[Any]:
    """The messages of review list ``kind`` (or of every list: ``all``), newest first."""
    items = []
    by_sender: dict[str, list[StoredTurn]] = {}
    for stored in turns:
        by_sender.setdefault(stored.sender, []).append(stored)
    for conversation in by_sender.values():
        for index, stored in enumerate(conversation):
            kinds = stored.kinds()
            if not kinds or (kind != "all" and kind not in kinds):
                continue
            start = max(0, index - CONTEXT_BEFORE)
            context = conversation[start : index + CONTEXT_AFTER + 1]
            items.append(
                {
                    "id": stored.id,
                    "kinds": kinds,
                    "sender": stored.sender,
                    "time": iso_time(stored.timestamp),
                    "message": stored.turn.message,
                    "intent": stored.intent,
                    "confidence": stored.confidence,
                    "rating": stored.rating,
                    "comments": stored.comments,
                    "review": notes.get(stored.id),
                    "context": [turn.as_json() for turn in context],
                }
            )
    return sorted(items, key=lambda item: item["time"], reverse=True)


def statistics(turns: list[StoredTurn]) -> dict[str, Any]:
    """Messages per day, share understood, share rated helpful, topics and emergencies."""
    days: dict[str, Counter[str]] = {}
    topics: Counter[str] = Counter()
    for stored in turns:
        if stored.is_rating:
            continue
        day = days.setdefault(iso_time(stored.timestamp)[:10], Counter())
        day["messages"] += 1
        day["understood"] += stored.intent != NLU_FALLBACK
        day["emergencies"] += "emergency" in stored.kinds()
        day["rated"] += stored.rating is not None
        day["helpful"] += stored.rating == "yes"
        topics[stored.intent or NLU_FALLBACK] += 1
    rows = [
        {
            "date": date,
            **{name: counts[name] for name in ("messages", "understood", "emergencies")},
            "rated": counts["rated"],
            "helpful": counts["helpful"],
        }
        for date, counts in sorted(days.items())
    ]
    totals = Counter[str]()
    for row in rows:
        totals.update({key: value for key, value in row.items() if key != "date"})
    return {
        "days": rows,
        "topics": dict(topics.most_common()),
        "totals": dict(totals),
        "share_understood": share(totals["understood"], totals["messages"]),
        "share_helpful": share(totals["helpful"], totals["rated"]),
    }


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def statistics_csv(stats: dict[str, Any]) -> str:
    """The same numbers as the charts, one row per day, then one per topic."""
    lines = ["date,messages,understood,rated,helpful,emergencies"]
    for row in stats["days"]:
        values = [row[key] for key in ("messages", "understood", "rated", "helpful", "emergencies")]
        lines.append(",".join([row["date"], *map(str, values)]))
    lines += ["", "topic,messages"]
    lines += [f"{topic},{count}" for topic, count in stats["topics"].items()]
    return "\n".join(lines) + "\n"


def suggested_examples(turns: list[StoredTurn], notes: dict[int, dict[str, Any]]) -> str:
    """Reviewed messages with a suggested intent, as Rasa NLU training data, for engineers."""
    by_intent: dict[str, list[str]] = {}
    for stored in turns:
        intent = (notes.get(stored.id) or {}).get("suggested_intent")
        if intent:
            by_intent.setdefault(intent, []).append(stored.turn.message)
    lines = [
        'version: "3.1"',
        "# Suggested by staff in the console's Review. Check each one before it goes into data/.",
        "nlu:",
    ]
    for intent, examples in sorted(by_intent.items()):
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {' '.join(example.split())}" for example in examples]
    return "\n".join(lines) + "\n"

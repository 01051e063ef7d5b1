"""``python -m bot retention --days N``: delete conversations nobody has touched for N days.

Rasa keeps every conversation in the SQLite tracker store (``TRACKER_DB``, by default
``var/tracker.db``) forever: each row of its ``events`` table is one event of one conversation
(``sender_id``), with a Unix ``timestamp``. This command deletes every event of each
conversation whose *last* event is older than N days; conversations with a newer event are
kept whole. ``make retention DAYS=30`` runs it; run it daily (cron, a systemd timer).

SQLite's ``secure_delete`` is on while it runs, so the deleted messages are overwritten in the
file, not just marked free. It can run while the Rasa server is running: SQLite locks the file
during the delete, and a conversation that continues later starts again from nothing.

One race remains, and this is exactly what it does: Rasa reads a conversation when a message
arrives and writes the new events when the turn ends. If that message arrives after N idle
days and this command deletes the conversation between Rasa's read and write, Rasa's
``SQLTrackerStore.save`` counts no stored events and writes the whole conversation again, old
events included. The conversation then has a new message, so it is kept until it is idle for N
days again, and deleted whole then. Nothing is lost that the person did not just continue.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bot.settings import add_tracker_db_option

SECONDS_PER_DAY = 86_400
LOCK_TIMEOUT_S = 30.0


class RetentionError(Exception):
    """The tracker store cannot be cleaned; the message says why and names the file."""


@dataclass(frozen=True)
class Deleted:
    """What one run deleted."""

    conversations: int
    events: int


def old_senders(connection: sqlite3.Connection, cutoff: float) -> list[str]:
    """The conversations whose last event happened before ``cutoff`` (Unix time)."""
    rows = connection.execute(
        "SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < ?", (cutoff,)
    )
    return [sender_id for (sender_id,) in rows]


def delete_old_conversations(db: Path, days: float, now: float | None = None) -> Deleted:
    """Delete every conversation whose last event is more than ``days`` days old.

    db: A SQLite tracker store written by Rasa's ``SQLTrackerStore``.
    days: How long a conversation is kept after its last event.
    now: The current Unix time (the clock, unless a test fixes it).
    RETURNS: How many conversations and events were deleted.
    """
    if not db.is_file():
        raise RetentionError(f"No tracker store at {db}: nothing to clean.")
    cutoff = (time.time() if now is None else now) - days * SECONDS_PER_DAY
    connection = sqlite3.connect(db, timeout=LOCK_TIMEOUT_S)
    try:
        connection.execute("PRAGMA secure_delete = ON")
        with connection:
            senders = old_senders(connection, cutoff)
            events = sum(delete_conversation(connection, sender_id) for sender_id in senders)
            return Deleted(conversations=len(senders), events=events)
    except sqlite3.DatabaseError as error:
        raise RetentionError(f"Cannot clean the tracker store {db}: {error}") from error
    finally:
        connection.close()


def delete_conversation(connection: sqlite3.Connection, sender_id: str) -> int:
    """Delete one conversation's events; return how many there were."""
    cursor = connection.execute("DELETE FROM events WHERE sender_id = ?", (sender_id,))
    return cursor.rowcount


def positive_days(text: str) -> float:
    days = float(text)
    if not days > 0:
        raise argparse.ArgumentTypeError(f"--days must be more than 0, not {text}")
    return days


def run(arguments: argparse.Namespace) -> int:
    """Run the ``retention`` command; print what it did. Returns the exit status."""
    try:
        deleted = delete_old_conversations(arguments.db, arguments.days)
    except RetentionError as error:
        print(error, file=sys.stderr)
        return 1
    print(
        f"Deleted {deleted.conversations} conversation(s) ({deleted.events} events) whose "
        f"last message is older than {arguments.days:g} days, from {arguments.db}."
    )
    return 0


COMMAND = "retention"
HELP = "delete conversations whose last message is older than N days"


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The ``retention`` command's options."""
    command.add_argument(
        "--days", type=positive_days, required=True, help="keep conversations this many days"
    )
    add_tracker_db_option(command, help="the tracker store")

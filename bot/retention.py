"""``python -m bot retention --days N``: delete conversations nobody has touched for N days.

Rasa keeps every conversation in the SQLite tracker store (``TRACKER_DB``, by default
``var/tracker.db``) forever: each row of its ``events`` table is one event of one conversation
(``sender_id``), with a Unix ``timestamp``. This command deletes every event of each
conversation whose *last* event is older than N days; conversations with a newer event are
kept whole. ``make retention DAYS=30`` runs it; run it daily (cron, a systemd timer).

SQLite's ``secure_delete`` is on while it runs, so the deleted messages are overwritten in the
file, not just marked free. A conversation that continues later starts again from nothing.

It can run while the Rasa server is running, and never deletes a conversation in the middle of
a turn. Rasa handles a message inside the conversation's lock in its lock store: it reads the
conversation, answers, writes the new events, and only then lets go. So this command takes
that lock too, in the same lock store (the private Redis of ``endpoints.yml``, ``REDIS_PORT``),
and deletes each conversation in a transaction of its own, and only if it is still idle once
the lock is held. A message that arrives meanwhile waits for the delete, and then starts a new
conversation; a turn in progress is waited for, and its conversation is kept. As for Rasa's
own messages, the lock holds for ``TICKET_LOCK_LIFETIME`` seconds at most.

If that Redis does not answer, no Rasa server can take a lock, so none is handling a message
(``rasa run`` stops at start without it), and the conversations are deleted without locks. The
one exception: a turn that held its lock when Redis stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rasa.core.lock_store import LOCK_LIFETIME, LockStore
from rasa.utils.endpoints import EndpointConfig

from bot.serving.lock_store import AtomicRedisLockStore, LockStoreUnavailable
from bot.serving.stores import redis_answers
from bot.settings import LOOPBACK, Settings, add_tracker_db_option

COMMAND = "retention"
HELP = "delete conversations whose last message is older than N days"

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


def delete_old_conversations(
    db: Path,
    days: float,
    now: float | None = None,
    locks: LockStore | None = None,
    lock_lifetime: float = LOCK_LIFETIME,
) -> Deleted:
    """Delete every conversation whose last event is more than ``days`` days old.

    db: A SQLite tracker store written by Rasa's ``SQLTrackerStore``.
    days: How long a conversation is kept after its last event.
    now: The current Unix time (the clock, unless a test fixes it).
    locks: The Rasa server's lock store: each conversation is deleted holding its lock.
    lock_lifetime: How long the lock may be held if this process dies holding it.
    RETURNS: How many conversations and events were deleted.
    """
    if not db.is_file():
        raise RetentionError(f"No tracker store at {db}: nothing to clean.")
    cutoff = (time.time() if now is None else now) - days * SECONDS_PER_DAY
    connection = sqlite3.connect(db, timeout=LOCK_TIMEOUT_S)
    try:
        connection.execute("PRAGMA secure_delete = ON")
        deleted = [
            asyncio.run(delete_if_idle(connection, sender_id, cutoff, locks, lock_lifetime))
            for sender_id in old_senders(connection, cutoff)
        ]
        return Deleted(conversations=sum(1 for n in deleted if n), events=sum(deleted))
    except sqlite3.DatabaseError as error:
        raise RetentionError(f"Cannot clean the tracker store {db}: {error}") from error
    finally:
        connection.close()


async def delete_if_idle(
    connection: sqlite3.Connection,
    sender_id: str,
    cutoff: float,
    locks: LockStore | None,
    lock_lifetime: float,
) -> int:
    """Delete one conversation, holding its lock, if its last event is still before ``cutoff``.

    RETURNS: How many events were deleted (0: a message came meanwhile, so it is kept).
    """
    if locks is None:
        return delete_conversation(connection, sender_id, cutoff)
    async with locks.lock(sender_id, lock_lifetime=lock_lifetime):
        return delete_conversation(connection, sender_id, cutoff)


def delete_conversation(connection: sqlite3.Connection, sender_id: str, cutoff: float) -> int:
    """Delete one conversation's events if its last one is before ``cutoff``; how many."""
    with connection:  # its own transaction: Rasa may write another conversation meanwhile
        cursor = connection.execute(
            "DELETE FROM events WHERE sender_id = ?"
            " AND (SELECT MAX(timestamp) FROM events WHERE sender_id = ?) < ?",
            (sender_id, sender_id, cutoff),
        )
        return cursor.rowcount


def server_locks(settings: Settings) -> LockStore | None:
    """The lock store the Rasa server uses (``endpoints.yml``), or None if it does not answer."""
    if not redis_answers(settings.redis_port):
        return None
    return AtomicRedisLockStore(EndpointConfig(url=LOOPBACK, port=settings.redis_port))


def positive_days(text: str) -> float:
    days = float(text)
    if not days > 0:
        raise argparse.ArgumentTypeError(f"--days must be more than 0, not {text}")
    return days


def run(arguments: argparse.Namespace) -> int:
    """Run the ``retention`` command; print what it did. Returns the exit status."""
    settings = Settings.from_environment()
    try:
        locks = server_locks(settings)
        deleted = delete_old_conversations(
            arguments.db, arguments.days, locks=locks, lock_lifetime=settings.ticket_lock_lifetime
        )
    except (RetentionError, LockStoreUnavailable) as error:
        print(error, file=sys.stderr)
        return 1
    if locks is None:
        address = f"{LOOPBACK}:{settings.redis_port}"
        print(
            f"The lock store at {address} did not answer, so no Rasa server was handling a message."
        )
    print(
        f"Deleted {deleted.conversations} conversation(s) ({deleted.events} events) whose "
        f"last message is older than {arguments.days:g} days, from {arguments.db}."
    )
    return 0


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The ``retention`` command's options."""
    command.add_argument(
        "--days", type=positive_days, required=True, help="keep conversations this many days"
    )
    add_tracker_db_option(command, help="the tracker store")

"""``python -m bot migrate``: copy the conversations of the SQLite tracker store to PostgreSQL.

``make run`` keeps conversations in SQLite (``TRACKER_DB``); ``make cluster`` keeps them in its
private PostgreSQL (``POSTGRES_PORT``, data in ``POSTGRES_DIR``). This command copies every
stored event, row for row and in order, into PostgreSQL's ``events`` table, which Rasa's
``SQLTrackerStore`` creates. A conversation PostgreSQL already holds is left as it is, so the
command can run again after more conversations were held in SQLite. If PostgreSQL is not
running (``make cluster`` is not), the command starts it for the copy and stops it after.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore

from bot.serving.stores import (
    POSTGRES_DATABASE,
    POSTGRES_USER,
    initialise_postgres,
    postgres_answers,
    postgres_password,
    postgres_server,
)
from bot.settings import LOOPBACK, Settings, add_tracker_db_option

COMMAND = "migrate"
HELP = "copy the conversations of the SQLite tracker store to make cluster's PostgreSQL"

COLUMNS = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")
BATCH_ROWS = 1000
START_TIMEOUT_S = 60


@dataclass(frozen=True)
class Copied:
    conversations: int
    events: int
    skipped: int  # conversations PostgreSQL held already


def sqlite_store(db: Path) -> SQLTrackerStore:
    if not db.is_file():
        raise SystemExit(f"No SQLite tracker store at {db}: nothing to copy.")
    return SQLTrackerStore(dialect="sqlite", db=str(db))


def postgres_store(settings: Settings) -> SQLTrackerStore:
    return SQLTrackerStore(
        dialect="postgresql",
        host=LOOPBACK,
        port=settings.postgres_port,
        username=POSTGRES_USER,
        password=postgres_password(settings),
        db=POSTGRES_DATABASE,
        login_db="postgres",
    )


@contextmanager
def postgres_running(settings: Settings) -> Iterator[None]:
    """PostgreSQL answering inside the block: the cluster's, or one started for the block."""
    if postgres_answers(settings, postgres_password(settings)):
        yield
        return
    initialise_postgres(settings)
    server = postgres_server(settings)
    server.start(settings)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.is_ready():
            if not server.is_running() or time.monotonic() > deadline:
                raise SystemExit(f"PostgreSQL did not start; see {settings.log_dir}/postgres.log")
            time.sleep(0.2)
        yield
    finally:
        server.stop()


def copy_conversations(source: SQLTrackerStore, target: SQLTrackerStore) -> Copied:
    """Copy the events of every conversation ``target`` does not hold yet, in stored order."""
    event = SQLTrackerStore.SQLEvent
    columns = [getattr(event, name) for name in COLUMNS]
    with source.session_scope() as reading, target.session_scope() as writing:
        present = {sender for (sender,) in writing.query(event.sender_id).distinct()}
        senders = [s for (s,) in reading.query(event.sender_id).distinct() if s not in present]
        copied = 0
        for sender in senders:
            rows = reading.query(*columns).filter(event.sender_id == sender).order_by(event.id)
            batch = [row._asdict() for row in rows]
            for start in range(0, len(batch), BATCH_ROWS):
                writing.execute(sa.insert(event.__table__), batch[start : start + BATCH_ROWS])
            copied += len(batch)
        writing.commit()
    return Copied(conversations=len(senders), events=copied, skipped=len(present))


def run(arguments: argparse.Namespace) -> int:
    settings = Settings.from_environment()
    source = sqlite_store(arguments.db)
    with postgres_running(settings):
        copied = copy_conversations(source, postgres_store(settings))
    print(
        f"Copied {copied.conversations} conversation(s) ({copied.events} events) from "
        f"{arguments.db} to PostgreSQL at {LOOPBACK}:{settings.postgres_port}; "
        f"{copied.skipped} conversation(s) were there already."
    )
    return 0


def add_arguments(command: argparse.ArgumentParser) -> None:
    """The ``migrate`` command's options."""
    add_tracker_db_option(command, help="the SQLite tracker store")


if __name__ == "__main__":
    sys.exit(run(argparse.Namespace(db=Settings.from_environment().tracker_db)))

"""Security and privacy: the HTTP API, CORS, what the logs hold, and the retention command."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import PROJECT_ROOT, paths
from bot.retention import SECONDS_PER_DAY, Deleted, delete_old_conversations
from bot.serve import Servers
from bot.serving.lock_store import AtomicRedisLockStore
from bot.serving.tracker_store import RecentTurnsTrackerStore
from bot.settings import Settings, free_port
from tests.conftest import StartServers
from tests.helpers import WEBHOOK, send

UNLISTED_ORIGIN = "https://attacker.example"


def get(servers: Servers, path: str, **params: str) -> requests.Response:
    return requests.get(f"{servers.settings.rasa_url}{path}", params=params, timeout=30)


# --- the HTTP API --------------------------------------------------------------------------


@pytest.mark.e2e
def test_the_http_api_is_off_by_default(servers: Servers) -> None:
    assert not servers.settings.api_token
    send(servers, "api-off", "hello")
    for path in ("/conversations/api-off/tracker", "/status", "/domain"):
        assert get(servers, path).status_code == 404, path
    model = requests.put(f"{servers.settings.rasa_url}/model", json={}, timeout=30)
    assert model.status_code == 404


@pytest.fixture(scope="module")
def api_server(start_servers: StartServers) -> Settings:
    """The servers started with RASA_API_TOKEN set."""
    return start_servers(api_token=f"token-{uuid.uuid4().hex}").settings


@pytest.mark.e2e
def test_with_a_token_the_api_needs_it(api_server: Settings) -> None:
    url = f"{api_server.rasa_url}/conversations/someone/tracker"
    assert requests.get(url, timeout=30).status_code == 401
    assert requests.get(url, params={"token": "wrong"}, timeout=30).status_code == 401
    put_model = requests.put(f"{api_server.rasa_url}/model", json={}, timeout=30)
    assert put_model.status_code == 401
    authorised = requests.get(url, params={"token": api_server.api_token}, timeout=30)
    assert authorised.status_code == 200
    assert authorised.json()["sender_id"] == "someone"


# --- CORS ----------------------------------------------------------------------------------


@pytest.mark.e2e
def test_cors_allows_only_the_configured_origins(servers: Servers) -> None:
    allowed = servers.settings.cors_origins.split()[0]
    url = f"{servers.settings.rasa_url}{WEBHOOK}"
    for origin, expected in ((allowed, allowed), (UNLISTED_ORIGIN, None)):
        preflight = requests.options(
            url,
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
            timeout=30,
        )
        assert preflight.headers.get("Access-Control-Allow-Origin") == expected, origin
        post = requests.post(
            url,
            json={"sender": "cors", "message": "hello"},
            headers={"Origin": origin},
            timeout=30,
        )
        assert post.headers.get("Access-Control-Allow-Origin") == expected, origin
    assert "*" not in servers.settings.cors_origins.split()


# --- logs ----------------------------------------------------------------------------------


@pytest.mark.e2e
def test_patient_messages_never_reach_the_logs(servers: Servers) -> None:
    marker = f"zebra{uuid.uuid4().hex}"
    sender = f"privacy-{uuid.uuid4().hex[:8]}"
    url = f"{servers.settings.rasa_url}{WEBHOOK}"
    for message in (
        f"my name is {marker} and i had breast cancer, where does it spread?",
        f"{marker} what symptoms happen in the liver?",
        f'/site_symptoms{{"site": "{marker}"}}',
        f"my mom {marker} is having a seizure right now",
        f"i want to end it all {marker}",
        f"{marker} " * 1000,
    ):
        send(servers, sender, message)
    requests.post(url + "?stream=true", json={"sender": sender, "message": marker}, timeout=60)
    requests.post(url, data=f'{{"sender": "{sender}", "message": "{marker}', timeout=60)
    time.sleep(1)  # let the servers write their logs
    logs = {log.name: log.read_text(encoding="utf-8") for log in servers.settings.log_dir.iterdir()}
    assert "rasa-1.log" in logs and "actions.log" in logs
    for name, text in logs.items():
        assert marker not in text, f"a patient's message is in {name}"


# --- retention -----------------------------------------------------------------------------

NOW = time.time()


def conversation(sender: str, text: str, *ages_days: float) -> list[Event]:
    """A user message and a bot reply at each age (days before now), oldest first."""
    events: list[Event] = []
    for age in ages_days:
        at = NOW - age * SECONDS_PER_DAY
        events += [
            ActionExecuted("action_listen", timestamp=at),
            UserUttered(f"{text} ({sender}, {age} days ago)", {"name": "greet"}, timestamp=at),
            BotUttered("Hello!", timestamp=at + 1),
            SlotSet("site", "liver", timestamp=at + 1),
        ]
    return events


@pytest.fixture
def tracker_db(tmp_path: Path) -> Path:
    """A tracker store written by Rasa's own SQLTrackerStore, with three conversations."""
    path = tmp_path / "tracker.db"
    domain = Domain.load(PROJECT_ROOT / "domain.yml")
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(path))
    for sender, ages in (("old", (45, 40)), ("recent", (5,)), ("old-then-recent", (60, 1))):
        events = conversation(sender, "secret-words", *ages)
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events, domain.slots)))
    return path


def retrieve(path: Path, sender: str) -> DialogueStateTracker | None:
    domain = Domain.load(PROJECT_ROOT / "domain.yml")
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(path))
    tracker: DialogueStateTracker | None = asyncio.run(store.retrieve_full_tracker(sender))
    return tracker


def run_retention(*arguments: str) -> subprocess.CompletedProcess[str]:
    """The command with no Rasa server running: its lock store does not answer."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "retention", *arguments],
        cwd=PROJECT_ROOT,
        env={**os.environ, "REDIS_PORT": str(free_port())},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_retention_deletes_only_conversations_idle_for_longer(tracker_db: Path) -> None:
    finished = run_retention("--days", "30", "--db", str(tracker_db))
    assert finished.returncode == 0, finished.stderr
    assert "Deleted 1 conversation(s) (8 events)" in finished.stdout

    assert retrieve(tracker_db, "old") is None
    recent = retrieve(tracker_db, "recent")
    assert recent is not None and recent.get_slot("site") == "liver"
    kept_whole = retrieve(tracker_db, "old-then-recent")
    assert kept_whole is not None
    assert len([e for e in kept_whole.events if isinstance(e, UserUttered)]) == 2
    # secure_delete: the deleted words are overwritten in the file, not only unlinked.
    assert b"(old, 45 days ago)" not in tracker_db.read_bytes()


def waiting_for(locks: AtomicRedisLockStore, sender_id: str) -> bool:
    """Whether someone waits for the conversation's lock while it is held."""
    lock = locks.get_lock(sender_id)
    return lock is not None and len(lock.tickets) > 1


def test_retention_waits_for_a_turn_in_progress_and_keeps_its_conversation(
    tracker_db: Path, redis_lock_store: AtomicRedisLockStore
) -> None:
    domain = Domain.load(paths.DOMAIN)
    store = RecentTurnsTrackerStore(domain, dialect="sqlite", db=str(tracker_db))

    async def a_turn_of_the_old_conversation_while_retention_runs() -> Deleted:
        """What Rasa does with a message, as retention starts after Rasa has read the tracker."""
        async with redis_lock_store.lock("old"):
            tracker = await store.retrieve("old")
            assert tracker is not None
            retention = asyncio.create_task(
                asyncio.to_thread(delete_old_conversations, tracker_db, 30, locks=redis_lock_store)
            )
            while not (retention.done() or waiting_for(redis_lock_store, "old")):
                await asyncio.sleep(0.05)
            tracker.update(UserUttered("and now?", {"name": "greet"}))
            await store.save(tracker)
        return await retention

    deleted = asyncio.run(
        asyncio.wait_for(a_turn_of_the_old_conversation_while_retention_runs(), 60)
    )

    assert deleted == Deleted(conversations=0, events=0)
    kept = retrieve(tracker_db, "old")
    assert kept is not None
    assert [event.text for event in kept.events if isinstance(event, UserUttered)] == [
        "secret-words (old, 45 days ago)",
        "secret-words (old, 40 days ago)",
        "and now?",
    ]


def test_retention_through_make(tracker_db: Path) -> None:
    finished = subprocess.run(
        ["make", "--no-print-directory", "retention", "DAYS=50", f"TRACKER_DB={tracker_db}"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    assert "Deleted 0 conversation(s)" in finished.stdout
    assert retrieve(tracker_db, "old") is not None


def test_retention_names_a_missing_database_and_refuses_bad_days(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    finished = run_retention("--days", "30", "--db", str(missing))
    assert finished.returncode == 1
    assert str(missing) in finished.stderr
    assert not missing.exists()
    assert run_retention("--days", "0", "--db", str(missing)).returncode == 2
    assert run_retention("--days", "soon").returncode == 2


def test_retention_on_a_file_that_is_not_a_tracker_store(tmp_path: Path) -> None:
    not_a_store = tmp_path / "notes.db"
    not_a_store.write_text(json.dumps({"not": "sqlite"}))
    finished = run_retention("--days", "30", "--db", str(not_a_store))
    assert finished.returncode == 1
    assert str(not_a_store) in finished.stderr

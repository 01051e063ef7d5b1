"""The staff console's JSON API against the real servers, and its tracker-store reading offline.

The browser tests are in tests/test_console_browser.py.
"""

from __future__ import annotations

import asyncio
import json
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import PROJECT_ROOT
from bot.article import is_verbatim
from bot.channels.rest import rating_comment, unless_comment_is_a_red_flag
from bot.feedback import rating_question
from bot.retention import SECONDS_PER_DAY
from bot.serve import Servers
from bot.settings import Settings
from bot.staff.console.store import TRIAL_PREFIX, TrackerStore, review_items, statistics
from bot.staff.console.token import staff_token
from tests.helpers import new_sender, send

FAULT_QUESTION = "was it my fault that the cancer spread"
NO = '/rate_answer{"helpful": "no"}'
LIVER_BUTTON = '/site_symptoms{"site": "liver"}'


def token_of(servers: Servers) -> str:
    return staff_token(servers.settings)


def api(
    servers: Servers, method: str, path: str, token: str | None = None, **kwargs: Any
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = f"{servers.settings.staff_url}{path}"
    return requests.request(method, url, headers=headers, timeout=120, **kwargs)


def rating(helpful: str, comment: str | None = None) -> str:
    entities = {"helpful": helpful, **({"comment": comment} if comment else {})}
    return f"/rate_answer{json.dumps(entities)}"


# --- Access --------------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/"),
        ("GET", "/try"),
        ("GET", "/review"),
        ("GET", "/overview"),
        ("GET", "/answers"),
        ("POST", "/api/try"),
        ("GET", "/api/review?kind=all"),
        ("POST", "/api/review/1"),
        ("GET", "/api/export"),
        ("GET", "/api/stats"),
        ("GET", "/api/stats.csv"),
        ("GET", "/api/answers"),
    ],
)
def test_every_page_and_call_needs_the_token(servers: Servers, method: str, path: str) -> None:
    assert api(servers, method, path, json={"message": "hello"}).status_code == 401
    assert api(servers, method, path, "wrong", json={"message": "hello"}).status_code == 401


@pytest.mark.e2e
def test_the_console_listens_on_loopback_by_default(servers: Servers) -> None:
    assert Settings().staff_host == "127.0.0.1"
    assert Settings().staff_port == 8081
    assert servers.console.is_running()


def test_a_token_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    settings = Settings(tracker_db=tmp_path / "tracker.db")
    token = staff_token(settings)
    assert len(token) >= 24
    assert stat.S_IMODE(settings.staff_token_file.stat().st_mode) == 0o600
    assert staff_token(settings) == token
    assert staff_token(settings.replace(staff_token="from-the-environment")) == (
        "from-the-environment"
    )


def test_the_staff_token_is_passed_to_no_other_server() -> None:
    settings = Settings(staff_token="secret-staff-token")
    assert "secret-staff-token" not in settings.environment().values()


# --- Try -----------------------------------------------------------------------------------


@pytest.mark.e2e
def test_try_explains_the_answer_with_its_passages(servers: Servers) -> None:
    reply = api(servers, "POST", "/api/try", token_of(servers), json={"message": FAULT_QUESTION})
    assert reply.status_code == 200
    data = reply.json()
    assert data["sender"].startswith(TRIAL_PREFIX)
    (turn,) = data["turns"]
    assert turn["intent"]["name"] == "was_it_my_fault"
    assert turn["intent"]["confidence"] > 0.5
    assert len(turn["runner_ups"]) == 3
    assert turn["actions"][0] == {
        "name": "utter_was_it_my_fault",
        "policy": "RulePolicy",
        "confidence": 1.0,
    }
    (answer,) = turn["replies"]
    assert "not your fault" in answer["text"].lower()
    assert answer["passages"] and all(is_verbatim(passage) for passage in answer["passages"])


@pytest.mark.e2e
def test_a_trial_conversation_goes_on_and_stays_out_of_review(servers: Servers) -> None:
    token = token_of(servers)
    first = api(servers, "POST", "/api/try", token, json={"message": "i want to end it all"})
    sender = first.json()["sender"]
    assert first.json()["turns"][0]["red_flag"]["kind"] == "self_harm"
    second = api(
        servers,
        "POST",
        "/api/try",
        token,
        json={"sender": sender, "messages": ["where does it spread?", LIVER_BUTTON]},
    ).json()
    assert second["sender"] == sender
    spread, liver = second["turns"]
    assert spread["intent"]["name"] == "where_it_spreads"
    assert liver["actions"][0]["name"] == "action_site_symptoms"
    assert liver["slots"]["site"] == "liver"

    items = api(servers, "GET", "/api/review?kind=all", token).json()["items"]
    assert all(not item["sender"].startswith(TRIAL_PREFIX) for item in items)


# --- Patient feedback and Review ------------------------------------------------------------


@pytest.mark.e2e
def test_a_rating_no_with_a_comment_is_found_in_review_and_can_be_marked(
    servers: Servers,
) -> None:
    patient = new_sender("patient")
    answer = send(servers, patient, FAULT_QUESTION)
    assert "ask_feedback" not in answer[0]
    thanks = send(servers, patient, NO)
    assert thanks[0]["ask_feedback"] is False
    send(servers, patient, rating("no", "It did not say what to do next"))

    token = token_of(servers)
    items = api(servers, "GET", "/api/review?kind=rated_no", token).json()["items"]
    (item,) = [item for item in items if item["sender"] == patient]
    assert item["message"] == FAULT_QUESTION
    assert item["rating"] == "no"
    assert item["comments"] == ["It did not say what to do next"]
    rated = [turn for turn in item["context"] if turn["id"] == item["id"]][0]
    assert rated["replies"][0]["passages"]

    marked = api(
        servers,
        "POST",
        f"/api/review/{item['id']}",
        token,
        json={"note": "Fine answer; wants next steps", "suggested_intent": "was_it_my_fault"},
    )
    assert marked.status_code == 200
    items = api(servers, "GET", "/api/review?kind=rated_no", token).json()["items"]
    (item,) = [item for item in items if item["sender"] == patient]
    assert item["review"]["note"] == "Fine answer; wants next steps"
    export = api(servers, "GET", "/api/export", token)
    assert f"- intent: was_it_my_fault\n  examples: |\n    - {FAULT_QUESTION}" in export.text


@pytest.mark.e2e
def test_only_domain_intents_can_be_suggested(servers: Servers) -> None:
    token = token_of(servers)
    reply = api(servers, "POST", "/api/review/1", token, json={"suggested_intent": "made_up"})
    assert reply.status_code == 400


@pytest.mark.e2e
def test_emergency_guidance_is_never_followed_by_the_question(servers: Servers) -> None:
    reply = send(servers, new_sender("patient"), "my mom is having a seizure right now")
    assert reply and all(message.get("ask_feedback") is False for message in reply)


@pytest.mark.e2e
def test_a_crisis_in_a_comment_gets_the_crisis_answer(servers: Servers) -> None:
    reply = send(servers, new_sender("patient"), rating("no", "i want to end it all"))
    assert "988" in reply[0]["text"]


@pytest.mark.e2e
def test_stats_count_real_messages_and_ratings(servers: Servers) -> None:
    patient = new_sender("patient")
    send(servers, patient, "how is it treated?")
    send(servers, patient, rating("yes"))
    stats = api(servers, "GET", "/api/stats", token_of(servers)).json()
    assert stats["totals"]["messages"] >= 1
    assert stats["totals"]["rated"] >= 1
    assert 0 <= stats["share_understood"] <= 1
    csv = api(servers, "GET", "/api/stats.csv", token_of(servers)).text
    assert csv.startswith("date,messages,understood,rated,helpful,emergencies\n")


@pytest.mark.e2e
def test_answers_list_every_intent_with_passages(servers: Servers) -> None:
    data = api(servers, "GET", "/api/answers", token_of(servers)).json()
    by_intent = {entry["intent"]: entry for entry in data["intents"]}
    assert by_intent["what_is_mbc"]["answers"][0]["passages"]
    assert "sign_off" in by_intent["what_is_mbc"]


# --- Offline: the rating's form, the store, retention ---------------------------------------


def test_the_question_and_its_buttons_come_from_the_domain() -> None:
    question, buttons = rating_question()
    assert question == "Was this helpful?"
    assert [button["payload"] for button in buttons] == [rating("yes"), NO]


def test_a_comment_is_read_from_the_rating() -> None:
    assert rating_comment(rating("no", 'too "short" {really}')) == 'too "short" {really}'
    assert rating_comment(NO) is None
    assert unless_comment_is_a_red_flag(rating("no", "too short")) == rating("no", "too short")
    assert unless_comment_is_a_red_flag(rating("no", "i want to end it all")) == (
        "i want to end it all"
    )


def rated_conversation(sender: str, at: float) -> list[Any]:
    return [
        ActionExecuted("action_listen", timestamp=at),
        UserUttered(
            "where does it spread?",
            {"name": "where_it_spreads", "confidence": 0.97},
            timestamp=at,
        ),
        ActionExecuted("utter_where_it_spreads", policy="RulePolicy", timestamp=at),
        BotUttered("The lung, the liver ...", metadata={"utter_action": "x"}, timestamp=at + 1),
        ActionExecuted("action_listen", timestamp=at + 1),
        UserUttered(
            NO,
            {"name": "rate_answer", "confidence": 1.0},
            [{"entity": "helpful", "value": "no"}],
            timestamp=at + 2,
        ),
    ]


@pytest.fixture
def tracker_db(tmp_path: Path) -> Path:
    """A tracker store written by Rasa's own SQLTrackerStore: a rated conversation, 40 days old."""
    path = tmp_path / "tracker.db"
    domain = Domain.load(PROJECT_ROOT / "domain.yml")
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(path))
    at = time.time() - 40 * SECONDS_PER_DAY
    for sender in ("patient-old", f"{TRIAL_PREFIX}old"):
        tracker = DialogueStateTracker.from_events(sender, rated_conversation(sender, at))
        asyncio.run(store.save(tracker))
    return path


def test_a_rating_rates_the_turn_before_it(tracker_db: Path) -> None:
    store = TrackerStore(tracker_db)
    (item,) = review_items(store.turns(), store.notes(), "rated_no")
    assert item["sender"] == "patient-old"
    assert item["message"] == "where does it spread?"
    stats = statistics(store.turns())
    assert stats["totals"]["messages"] == 1
    assert stats["share_helpful"] == 0.0


def test_retention_deletes_the_review_notes_with_the_conversation(tracker_db: Path) -> None:
    store = TrackerStore(tracker_db)
    (item,) = review_items(store.turns(), store.notes(), "rated_no")
    assert store.mark_reviewed(item["id"], "a note about it", None)
    assert store.notes()
    finished = subprocess.run(
        [sys.executable, "-m", "bot", "retention", "--days", "30", "--db", str(tracker_db)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr
    assert store.turns() == []
    assert store.notes() == {}
    assert b"a note about it" not in tracker_db.read_bytes()

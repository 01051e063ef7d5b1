"""Faults: servers that stop, clients that hang up, a tracker store that cannot be written.

These tests stop and start servers, so they use their own :class:`Servers` on free ports with
their own tracker store, never the shared session servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from bot import PROJECT_ROOT
from bot.channels.rest import guarded
from bot.serve import Server, Servers, check_tracker_store, rasa_command, write_credentials
from bot.serving.stores import redis_dir
from bot.settings import Settings
from tests.conftest import StartServers
from tests.helpers import FAILURE_REPLY, Reply, send, slot_value, stored_events, texts
from tests.helpers import new_sender as unique_sender

RESPONSES = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
CARE_TEAM = RESPONSES["utter_care_team"][0]["text"]
UNAVAILABLE = RESPONSES["utter_action_unavailable"][0]["text"]
WHAT_IS_MBC = RESPONSES["utter_what_is_mbc"][0]["text"]


@pytest.fixture(scope="module")
def own_servers(start_servers: StartServers) -> Servers:
    """Servers these tests may stop and restart without disturbing the other tests."""
    return start_servers()


def new_sender() -> str:
    return unique_sender("fault")


def payload(site: str | None = None) -> str:
    return "/site_symptoms" if site is None else f'/site_symptoms{{"site": "{site}"}}'


def restart(servers: Servers, server: Server) -> None:
    server.stop()
    server.start(servers.settings)
    servers.wait_until_ready(server, timeout_s=300)


def assert_symptoms(reply: Reply, symptom: str) -> None:
    assert symptom in texts(reply)
    assert reply[-1]["text"] == CARE_TEAM


def site_slot(servers: Servers, sender: str) -> object:
    return slot_value(servers, sender, "site")


@pytest.mark.e2e
@pytest.mark.slow
def test_action_server_down_faq_still_works_sites_get_a_graceful_reply_then_recovers(
    own_servers: Servers,
) -> None:
    sender = new_sender()
    assert_symptoms(send(own_servers, sender, payload("liver")), "nausea")

    own_servers.actions.stop()
    assert not own_servers.actions.is_running()
    assert texts(send(own_servers, sender, "what is metastatic breast cancer?")) == (
        WHAT_IS_MBC.lower()
    )
    unavailable = send(own_servers, sender, payload("lung"))
    assert [message["text"] for message in unavailable] == [UNAVAILABLE]
    assert "care team" in texts(unavailable)
    assert FAILURE_REPLY.lower() not in texts(unavailable)

    own_servers.actions.start(own_servers.settings)
    own_servers.wait_until_ready(own_servers.actions, timeout_s=120)
    assert_symptoms(send(own_servers, sender, payload("lung")), "cough")
    assert site_slot(own_servers, sender) == "lung"


@pytest.mark.e2e
@pytest.mark.slow
def test_the_conversation_continues_after_the_rasa_server_restarts(own_servers: Servers) -> None:
    sender = new_sender()
    assert_symptoms(send(own_servers, sender, payload("bones")), "bone pain")

    restart(own_servers, own_servers.rasa)

    # No site in the follow-up: the answer comes from the slot kept in the tracker store.
    assert_symptoms(send(own_servers, sender, payload()), "bone pain")
    assert site_slot(own_servers, sender) == "bones"


@pytest.mark.e2e
@pytest.mark.slow
def test_a_client_that_hangs_up_does_not_cut_the_turn_short(own_servers: Servers) -> None:
    sender = new_sender()
    marker = uuid.uuid4().hex
    message = f"where does breast cancer spread? {marker}"
    url = f"{own_servers.settings.rasa_url}/webhooks/rest/webhook"
    with contextlib.suppress(requests.Timeout):  # the usual case: it gave up before the reply
        requests.post(url, json={"sender": sender, "message": message}, timeout=0.05)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not bot_replied_to(own_servers, sender, message):
        time.sleep(0.5)
    assert bot_replied_to(own_servers, sender, message)
    assert "brain" in texts(send(own_servers, sender, "where does breast cancer spread?"))
    for log in own_servers.settings.log_dir.iterdir():
        assert marker not in log.read_text(encoding="utf-8", errors="replace"), log


def bot_replied_to(servers: Servers, sender: str, message: str) -> bool:
    """Whether the tracker store holds ``message`` and a bot reply after it."""
    events = [event for _, event in stored_events(servers, sender, ("user", "bot"))]
    kinds = [
        "asked" if event["event"] == "user" and event["text"] == message else event["event"]
        for event in events
    ]
    return "asked" in kinds and "bot" in kinds[kinds.index("asked") :]


# --- the tracker store at start ------------------------------------------------------------


def test_a_missing_tracker_store_directory_is_created(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "tracker.db"
    check_tracker_store(path)
    assert path.parent.is_dir()


@pytest.mark.parametrize("problem", ["parent is a file", "file is not a database"])
def test_an_unusable_tracker_store_stops_the_start_with_its_path(
    tmp_path: Path, problem: str
) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a database, not a directory\n" * 100)
    path = blocker / "tracker.db" if problem == "parent is a file" else blocker
    servers = Servers(Settings.on_loopback(tmp_path, tracker_db=path))
    with pytest.raises(SystemExit) as stopped:
        servers.start()
    assert str(path) in str(stopped.value)
    assert all(server.process is None for server in servers.all)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to a read-only directory")
def test_a_read_only_directory_stops_the_start_with_its_path(tmp_path: Path) -> None:
    read_only = tmp_path / "read-only"
    read_only.mkdir(mode=0o555)
    path = read_only / "tracker.db"
    with pytest.raises(SystemExit, match=str(path)):
        check_tracker_store(path)


@pytest.mark.e2e
@pytest.mark.slow
def test_rasa_run_itself_starts_without_its_tracker_store_and_forgets(tmp_path: Path) -> None:
    """What the check in bot/serve.py prevents: ``rasa run`` alone, with no directory for
    TRACKER_DB, starts and answers, but logs an error and keeps conversations only in memory.
    """
    missing = tmp_path / "missing" / "tracker.db"
    settings = Settings.on_loopback(tmp_path, extra_env={"TRACKER_DB": str(missing)})
    write_credentials(settings)
    rasa = Server("rasa", rasa_command(settings), f"{settings.rasa_url}/")
    servers = Servers(settings)
    redis_dir(settings).mkdir(parents=True)  # the lock store Rasa checks as it starts
    servers.redis.start(settings)
    rasa.start(settings)
    try:
        servers.wait_until_ready(rasa, timeout_s=300)
        assert "brain" in texts(send_to(settings, "where does breast cancer spread?"))
    finally:
        rasa.stop()
        servers.redis.stop()
    assert not missing.exists()
    log = (settings.log_dir / "rasa.log").read_text(encoding="utf-8")
    assert "unable to open database file" in log


def send_to(settings: Settings, message: str) -> Reply:
    return send(settings, new_sender(), message)


@pytest.mark.e2e
@pytest.mark.slow
def test_rasa_run_refuses_to_start_without_the_tracker_db_variable(tmp_path: Path) -> None:
    settings = Settings.on_loopback(tmp_path)
    environment = {k: v for k, v in settings.environment().items() if k != "TRACKER_DB"}
    write_credentials(settings)
    finished = subprocess.run(
        rasa_command(settings),
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode != 0
    assert "TRACKER_DB" in finished.stdout + finished.stderr


# --- the REST channel's own safety net (bot/channels/rest.py), without servers ---------------


def user_message(text: str) -> UserMessage:
    return UserMessage(text, CollectingOutputChannel(), "patient-7", input_channel="rest")


def test_a_failing_turn_gets_an_apology_and_the_log_leaves_out_the_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def failing(message: UserMessage) -> None:
        raise ValueError(f"could not parse {message.text!r}")

    message = user_message("my private words")
    with caplog.at_level(logging.DEBUG):
        asyncio.run(guarded(failing)(message))
    output: Any = message.output_channel
    assert [sent["text"] for sent in output.messages] == [FAILURE_REPLY]
    assert "patient-7" in caplog.text and "ValueError" in caplog.text
    assert "my private words" not in caplog.text


def test_a_cancelled_request_still_completes_the_turn(caplog: pytest.LogCaptureFixture) -> None:
    completed: list[str] = []

    async def slow(message: UserMessage) -> None:
        await asyncio.sleep(0.2)
        completed.append(message.text or "")

    async def hang_up() -> None:
        request = asyncio.ensure_future(guarded(slow)(user_message("my private words")))
        await asyncio.sleep(0.05)
        request.cancel()  # what Sanic does when the client disconnects
        await asyncio.sleep(0.5)
        assert request.done()

    with caplog.at_level(logging.DEBUG):
        asyncio.run(hang_up())
    assert completed == ["my private words"]
    assert "left before the reply was ready" in caplog.text
    assert "my private words" not in caplog.text

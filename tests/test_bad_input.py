"""Bad input through the real REST channel (bot/channels/rest.py), as a widget or script sends it.

Each case goes to the running servers; afterwards a normal question must still be answered, so
no bad request can break the server or the conversation.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import yaml

from bot import PROJECT_ROOT
from bot.serve import Servers
from bot.serving.balancer import replica_ports
from bot.settings import LOOPBACK, Settings
from tests.helpers import (
    EMPTY_MESSAGE_REPLY,
    FAILURE_REPLY,
    TOO_LONG_REPLY,
    WEBHOOK,
    send,
    texts,
    user_texts,
)
from tests.helpers import new_sender as unique_sender

pytestmark = pytest.mark.e2e

NORMAL_QUESTION = "where does breast cancer spread?"
MAX_CHARS = Settings().max_message_chars
RESPONSES = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
CARE_TEAM = RESPONSES["utter_care_team"][0]["text"]


def new_sender() -> str:
    return unique_sender("bad-input")


def post(servers: Servers, body: bytes, path: str = WEBHOOK) -> requests.Response:
    return requests.post(f"{servers.settings.rasa_url}{path}", data=body, timeout=60)


def body(**fields: Any) -> bytes:
    return json.dumps(fields).encode("utf-8")


def assert_no_internals(response: requests.Response) -> None:
    for leak in ("Traceback", 'File "', "site-packages", "Exception"):
        assert leak not in response.text


def assert_still_answers(servers: Servers, sender: str) -> None:
    """The next normal question gets the normal answer: the four sites."""
    answer = texts(send(servers, sender, NORMAL_QUESTION))
    for site in ("lung", "liver", "bones", "brain"):
        assert site in answer


NOT_JSON_OBJECT = {
    "truncated JSON": b'{"sender": "x", "message": ',
    "invalid UTF-8": b'{"sender": "x", "message": "\xff\xfe liver"}',
    "empty body": b"",
    "form encoded": b"sender=x&message=hello",
    "JSON array": b'["x", "hello"]',
    "JSON string": b'"hello"',
    "JSON null": b"null",
    "deeply nested": b"[" * 100_000,
}

BAD_FIELDS: dict[str, dict[str, Any]] = {
    "missing sender": {"message": "hello"},
    "sender is a number": {"sender": 42, "message": "hello"},
    "sender is null": {"sender": None, "message": "hello"},
    "sender is a list": {"sender": ["x"], "message": "hello"},
    "sender is empty": {"sender": "", "message": "hello"},
    "sender is blank": {"sender": "   ", "message": "hello"},
    "sender is too long": {"sender": "x" * 129, "message": "hello"},
    "sender has a control character": {"sender": "x\u0000y", "message": "hello"},
    "missing message": {"sender": "x"},
    "message is null": {"sender": "x", "message": None},
    "message is a number": {"sender": "x", "message": 42},
    "message is a list": {"sender": "x", "message": ["hello"]},
    "message is an object": {"sender": "x", "message": {"text": "hello"}},
    "metadata is a string": {"sender": "x", "message": "hello", "metadata": "x"},
    "input_channel is a number": {"sender": "x", "message": "hello", "input_channel": 1},
}


@pytest.mark.parametrize("raw", NOT_JSON_OBJECT.values(), ids=NOT_JSON_OBJECT.keys())
def test_a_body_that_is_not_a_json_object_gets_400(servers: Servers, raw: bytes) -> None:
    response = post(servers, raw)
    assert response.status_code == 400
    assert set(response.json()) == {"error"}
    assert_no_internals(response)
    assert_still_answers(servers, new_sender())


@pytest.mark.parametrize("fields", BAD_FIELDS.values(), ids=BAD_FIELDS.keys())
def test_a_missing_or_wrong_field_gets_400(servers: Servers, fields: dict[str, Any]) -> None:
    response = post(servers, body(**fields))
    assert response.status_code == 400
    error = response.json()["error"]
    assert any(name in error for name in ("sender", "message", "metadata", "input_channel"))
    assert_no_internals(response)
    assert_still_answers(servers, new_sender())


@pytest.mark.parametrize("message", ["", "   ", "\n\t \r\n", "\u0000\u0007\u001b"])
def test_an_empty_message_gets_a_reply_asking_for_a_question(
    servers: Servers, message: str
) -> None:
    sender = new_sender()
    response = post(servers, body(sender=sender, message=message))
    assert response.status_code == 200
    assert response.json() == [
        {"recipient_id": sender, "text": EMPTY_MESSAGE_REPLY, "ask_feedback": False}
    ]
    assert user_texts(servers, sender) == []
    assert_still_answers(servers, sender)


@pytest.mark.parametrize(
    "length", [MAX_CHARS + 1, 100_000, 1_000_000], ids=["limit+1", "100k", "1M"]
)
def test_an_over_long_message_gets_a_reply_asking_for_a_shorter_one(
    servers: Servers, length: int
) -> None:
    # 1M characters is about 1 MB: well under Sanic's REQUEST_MAX_SIZE (100 MB), so the
    # channel, not Sanic, answers it, with a reply the widget can show.
    sender = new_sender()
    response = post(servers, body(sender=sender, message="liver " * (length // 6 + 1)))
    assert response.status_code == 200
    assert response.json() == [
        {"recipient_id": sender, "text": TOO_LONG_REPLY, "ask_feedback": False}
    ]
    assert user_texts(servers, sender) == []
    assert_still_answers(servers, sender)


def test_a_message_at_the_limit_reaches_the_bot(servers: Servers) -> None:
    sender = new_sender()
    message = ("where does breast cancer spread? " * 100)[:MAX_CHARS]
    reply = send(servers, sender, message)
    assert reply and TOO_LONG_REPLY.lower() not in texts(reply)
    assert user_texts(servers, sender) == [message.strip()]


def test_control_characters_are_removed_before_the_bot_sees_the_message(
    servers: Servers,
) -> None:
    sender = new_sender()
    raw = "where\u0000 does breast\u0007 cancer\tspread?\u001b\u007f\u0085 \ud800"
    response = post(servers, json.dumps({"sender": sender, "message": raw}).encode("ascii"))
    assert response.status_code == 200
    assert user_texts(servers, sender) == ["where does breast cancer spread?"]
    assert "brain" in texts(response.json())
    assert_still_answers(servers, sender)


PASSED_THROUGH = {
    "emoji only": "😢😢🙏",
    "emoji with joiners": "👩‍👧 ❤️‍🩹",
    "Spanish": "¿A dónde se propaga el cáncer de mama?",
    "Chinese": "乳腺癌会扩散到哪里？",
    "Arabic": "أين ينتشر سرطان الثدي؟",
    "HTML and script": '<script>alert("x")</script><b>liver</b> <img src=x onerror=alert(1)>',
    "SQL-like": "'; DROP TABLE events; --",
    "template braces": "{site} {{emergency_number}} %s {0}",
}


@pytest.mark.parametrize("message", PASSED_THROUGH.values(), ids=PASSED_THROUGH.keys())
def test_unusual_text_is_passed_to_the_bot_as_it_is(servers: Servers, message: str) -> None:
    sender = new_sender()
    reply = send(servers, sender, message)
    assert reply and all(part.get("text") for part in reply)
    assert FAILURE_REPLY.lower() not in texts(reply)
    assert "<script" not in texts(reply)
    assert user_texts(servers, sender) == [message]
    assert_still_answers(servers, sender)


@pytest.mark.parametrize(
    ("message", "kept", "injected"),
    [
        ('/emergency{"emergency_number": "12345"}', "911", "12345"),
        ('/self_harm{"crisis_line": "0000"}', "988", "0000"),
    ],
)
def test_an_intent_payload_cannot_change_the_safety_numbers(
    servers: Servers, message: str, kept: str, injected: str
) -> None:
    answer = texts(send(servers, new_sender(), message))
    assert kept in answer and injected not in answer


@pytest.mark.parametrize(
    "site", ['{"a": [1]}', "5", "null", '["liver", "brain"]', '"<script>"', '"x' + "y" * 500 + '"']
)
def test_a_button_payload_with_any_site_value_gets_a_reply(servers: Servers, site: str) -> None:
    sender = new_sender()
    reply = send(servers, sender, f'/site_symptoms{{"site": {site}}}')
    assert reply and reply[-1]["text"] == CARE_TEAM
    assert FAILURE_REPLY.lower() not in texts(reply)
    assert_still_answers(servers, sender)


def test_sanic_errors_are_json_without_internals(servers: Servers) -> None:
    wrong_method = requests.get(f"{servers.settings.rasa_url}{WEBHOOK}", timeout=10)
    unknown_path = post(servers, body(sender="x", message="hi"), path="/webhooks/nope/webhook")
    for response, status in ((wrong_method, 405), (unknown_path, 404)):
        assert response.status_code == status
        assert response.headers["Content-Type"].startswith("application/json")
        assert_no_internals(response)


def test_the_channel_keeps_rasas_url_and_health_route(servers: Servers) -> None:
    health = requests.get(f"{servers.settings.rasa_url}/webhooks/rest/", timeout=10)
    assert health.json() == {"status": "ok"}


def test_the_same_request_sent_again_gets_the_answer_and_is_stored_once(servers: Servers) -> None:
    """What the balancer does when a replica dies between saving a turn and answering.

    Sent to a replica, as the balancer sends it: the balancer sets its own request id.
    """
    sender = new_sender()
    headers = {"X-Request-ID": f"{sender}-request-1"}
    url = f"http://{LOOPBACK}:{replica_ports(servers.settings)[0]}{WEBHOOK}"
    for _ in range(2):
        response = requests.post(
            url, data=body(sender=sender, message=NORMAL_QUESTION), headers=headers, timeout=60
        )
        assert "liver" in texts(response.json())
    assert user_texts(servers, sender) == [NORMAL_QUESTION]
    assert_still_answers(servers, sender)
    assert user_texts(servers, sender) == [NORMAL_QUESTION, NORMAL_QUESTION]

"""Telegram end to end, offline: a fake Telegram Bot API server on loopback, the real Rasa
server with the Telegram channel pointed at it, and real Telegram updates posted to the webhook.

Rasa's own connector (rasa.core.channels.telegram) reads the updates and sends the replies;
the fake server records what it receives. Fast tests check that Telegram is off by default.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from pathlib import Path
from typing import Any

import pytest
import rasa.shared.utils.io
import requests

from bot.article import sites
from bot.channels.telegram import DEFAULT_API_URL, SECRET_HEADER, TelegramInput, TelegramOutput
from bot.serve import Servers, running, write_credentials
from bot.settings import Settings, free_port
from tests.helpers import Reply, send, stored_events

TOKEN = "123456:TEST-fake-token"
BOT_NAME = "mbc_test_bot"
SECRET = "test-secret-token"
WEBHOOK_URL = "https://bot.example.org/webhooks/telegram/webhook"
TELEGRAM_CHANNEL = "bot.channels.telegram.TelegramInput"
LIVER_BUTTON = '/site_symptoms{"site": "liver"}'

update_ids = count(1)


class FakeBotApi:
    """Answers getMe, setWebhook and sendMessage like the Bot API, and records every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.message_ids = count(1)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), self.handler())

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                # The path is /bot<token>/<method>.
                method = self.path.rsplit("/", 1)[-1]
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                params = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
                api.calls.append((method, params))
                payload = json.dumps({"ok": True, "result": api.result(method, params)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def result(self, method: str, params: dict[str, str]) -> Any:
        if method == "getMe":
            return {"id": 123456, "is_bot": True, "first_name": "MBC", "username": BOT_NAME}
        if method == "sendMessage":
            return {
                "message_id": next(self.message_ids),
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "text": params.get("text", ""),
            }
        return True

    def sent_to(self, chat_id: int) -> list[dict[str, str]]:
        """The sendMessage calls for one chat, in order."""
        return [p for m, p in self.calls if m == "sendMessage" and p["chat_id"] == str(chat_id)]

    def start(self) -> None:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def bot_api() -> Iterator[FakeBotApi]:
    api = FakeBotApi()
    api.start()
    yield api
    api.stop()


@pytest.fixture(scope="module")
def telegram_servers(
    bot_api: FakeBotApi, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Servers]:
    """The servers with Telegram switched on the way a deployment does it: by environment."""
    state = tmp_path_factory.mktemp("telegram")
    settings = Settings.on_loopback(
        state,
        extra_env={
            "TELEGRAM_TOKEN": TOKEN,
            "TELEGRAM_BOT_NAME": BOT_NAME,
            "TELEGRAM_WEBHOOK_URL": WEBHOOK_URL,
            "TELEGRAM_API_URL": bot_api.url,
            "TELEGRAM_SECRET_TOKEN": SECRET,
        },
    )
    with running(settings) as servers:
        yield servers


def new_user() -> dict[str, Any]:
    chat_id = 700_000 + next(update_ids)
    return {"id": chat_id, "is_bot": False, "first_name": "Pat"}


def text_update(sender: dict[str, Any], text: str) -> dict[str, Any]:
    """A Telegram update for a text message, as Telegram posts it to the webhook."""
    return {
        "update_id": next(update_ids),
        "message": {
            "message_id": next(update_ids),
            "date": int(time.time()),
            "from": sender,
            "chat": {"id": sender["id"], "type": "private", "first_name": sender["first_name"]},
            "text": text,
        },
    }


def button_update(sender: dict[str, Any], data: str) -> dict[str, Any]:
    """A Telegram update for a press on an inline keyboard button."""
    return {
        "update_id": next(update_ids),
        "callback_query": {
            "id": str(next(update_ids)),
            "from": sender,
            "chat_instance": "1",
            "data": data,
            "message": {
                "message_id": next(update_ids),
                "date": int(time.time()),
                "chat": {"id": sender["id"], "type": "private"},
                "text": "Which one would you like to know more about?",
            },
        },
    }


def post_update(
    servers: Servers, update: dict[str, Any], secret: str = SECRET
) -> requests.Response:
    return requests.post(
        f"{servers.settings.rasa_url}/webhooks/telegram/webhook",
        json=update,
        headers={SECRET_HEADER: secret} if secret else {},
        timeout=60,
    )


def as_telegram_texts(reply: Reply) -> list[str]:
    """The texts Rasa's connector sends for a reply: text without buttons is split at blank
    lines, a text with buttons is sent whole."""
    texts: list[str] = []
    for message in reply:
        text = message.get("text", "")
        texts += [text] if message.get("buttons") else text.strip().split("\n\n")
    return texts


def keyboard_of(message: dict[str, str]) -> list[tuple[str, str]]:
    rows = json.loads(message["reply_markup"])["inline_keyboard"]
    return [(button["text"], button["callback_data"]) for row in rows for button in row]


@dataclass
class Chat:
    """A new user's private chat with the bot: updates posted to the webhook, and what the
    bot sent back through the fake Bot API."""

    servers: Servers
    bot_api: FakeBotApi
    sender: dict[str, Any] = field(default_factory=new_user)

    @property
    def id(self) -> int:
        chat_id: int = self.sender["id"]
        return chat_id

    def says(self, text: str, secret: str = SECRET) -> requests.Response:
        return post_update(self.servers, text_update(self.sender, text), secret)

    def presses(self, data: str) -> requests.Response:
        return post_update(self.servers, button_update(self.sender, data))

    def received(self) -> list[dict[str, str]]:
        """Every message the bot sent to this chat, in order."""
        return self.bot_api.sent_to(self.id)


@pytest.fixture
def chat(bot_api: FakeBotApi, telegram_servers: Servers) -> Chat:
    return Chat(telegram_servers, bot_api)


@pytest.mark.e2e
def test_the_webhook_is_registered_with_the_secret(
    bot_api: FakeBotApi, telegram_servers: Servers
) -> None:
    registrations = [params for method, params in bot_api.calls if method == "setWebhook"]
    assert registrations == [{"url": WEBHOOK_URL, "secret_token": SECRET}]


@pytest.mark.e2e
def test_a_question_gets_the_answer_with_buttons(chat: Chat) -> None:
    assert chat.says("where does it spread?").status_code == 200

    *sent, question = chat.received()
    rest_reply = send(chat.servers, f"rest-{chat.id}", "where does it spread?")
    assert [message["text"] for message in sent] == as_telegram_texts(rest_reply)
    assert question["text"] == "Was this helpful?"
    assert all(site in sent[0]["text"].lower() for site in ("lung", "liver", "bones", "brain"))
    assert keyboard_of(sent[0]) == [
        (button["title"], button["payload"]) for button in rest_reply[0]["buttons"]
    ]


@pytest.mark.e2e
def test_a_button_press_gets_the_site_answer(chat: Chat) -> None:
    chat.says("where does breast cancer spread?")
    assert chat.presses(LIVER_BUTTON).status_code == 200

    answer = " ".join(message["text"] for message in chat.received()[1:]).lower()
    for item in sites()["sites"]["liver"]["symptoms"]:
        assert item["symptom"] in answer
    assert "care team" in answer


@pytest.mark.e2e
def test_an_update_without_the_secret_is_refused(chat: Chat) -> None:
    for secret in ("", "wrong"):
        assert chat.says("hello", secret=secret).status_code == 403
    assert chat.received() == []


def channels_in(path: Path, environment: dict[str, str]) -> dict[str, Any]:
    """The credentials as Rasa reads them (Rasa's reader, with ${VAR} filled in)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        credentials: dict[str, Any] = rasa.shared.utils.io.read_config_file(path)
    return credentials


def test_telegram_is_off_unless_its_token_is_set(tmp_path: Path) -> None:
    settings = Settings(tracker_db=tmp_path / "tracker.db", extra_env={"TELEGRAM_TOKEN": ""})
    assert TELEGRAM_CHANNEL not in channels_in(write_credentials(settings), {})


def test_the_telegram_token_switches_telegram_on(tmp_path: Path) -> None:
    environment = {
        "TELEGRAM_TOKEN": TOKEN,
        "TELEGRAM_BOT_NAME": BOT_NAME,
        "TELEGRAM_WEBHOOK_URL": WEBHOOK_URL,
    }
    settings = Settings(tracker_db=tmp_path / "tracker.db", extra_env=environment)
    credentials = channels_in(write_credentials(settings), environment)
    assert credentials[TELEGRAM_CHANNEL] == {
        "access_token": TOKEN,
        "verify": BOT_NAME,
        "webhook_url": WEBHOOK_URL,
    }
    assert TOKEN not in settings.credentials_file.read_text()


def test_the_api_url_defaults_to_telegram(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_API_URL", raising=False)
    channel = TelegramInput.from_credentials({"access_token": TOKEN, "verify": BOT_NAME})
    assert isinstance(channel, TelegramInput)
    assert channel.api_url == DEFAULT_API_URL
    assert channel.secret_token == ""


def test_the_output_channel_calls_the_configured_api_server() -> None:
    output = TelegramOutput(TOKEN, api_url="http://127.0.0.1:9/")
    assert output.server.api_url(TOKEN, "sendMessage") == (
        f"http://127.0.0.1:9/bot{TOKEN}/sendMessage"
    )


@pytest.mark.e2e
def test_an_answer_asks_for_a_rating_and_no_is_thanked_without_asking_again(chat: Chat) -> None:
    chat.says("how is it treated?")
    question = chat.received()[-1]
    assert question["text"] == "Was this helpful?"
    assert keyboard_of(question) == [
        ("Yes", '/rate_answer{"helpful": "yes"}'),
        ("No", '/rate_answer{"helpful": "no"}'),
    ]
    before = len(chat.received())
    chat.presses('/rate_answer{"helpful": "no"}')
    after = chat.received()[before:]
    assert [message["text"] for message in after] == [
        "Thank you for telling us. Our team reads these ratings to improve the answers."
    ]
    stored = stored_events(chat.servers, str(chat.id), ("user",))
    assert stored[-1][1]["parse_data"]["intent"]["name"] == "rate_answer"
    assert stored[-1][1]["parse_data"]["entities"][0]["value"] == "no"


@pytest.mark.e2e
def test_emergency_guidance_is_not_followed_by_the_rating_question(chat: Chat) -> None:
    chat.says("my wife is having a seizure right now")
    texts = [message["text"] for message in chat.received()]
    assert texts and "911" in " ".join(texts)
    assert "Was this helpful?" not in texts

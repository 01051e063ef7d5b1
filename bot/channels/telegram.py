"""Telegram through Rasa's own connector, with two settings Rasa's connector lacks.

- ``api_url``: the address of the Telegram Bot API server (default https://api.telegram.org),
  for a self-hosted Bot API server, a proxy, or a fake one in the tests. Rasa's connector always
  uses api.telegram.org; aiogram's ``Bot`` takes the address as a ``TelegramAPIServer``.
- ``secret_token``: when set, ``setWebhook`` sends it to Telegram, Telegram sends it back in the
  ``X-Telegram-Bot-Api-Secret-Token`` header of every update, and any other POST to the webhook
  gets ``403``. Without it, whoever finds the webhook URL can post made-up updates.

After each answer it asks "Was this helpful?" with inline Yes/No buttons (the domain's
``utter_ask_rating``, ``bot.feedback``), except after a reply whose response says
``ask_feedback: false`` (emergency and crisis guidance, the thanks for a rating). A button
press comes back as the ``/rate_answer{...}`` message, stored like the widget's ratings.

Everything else (reading updates, buttons as inline keyboards, sending replies) is Rasa's
``rasa.core.channels.telegram`` code. ``credentials.telegram.yml`` switches the channel on
(README, "Channels"); its key is this class's path, its URL stays /webhooks/telegram/webhook.
"""

from __future__ import annotations

import asyncio
import hmac
import os
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.bot.api import TelegramAPIServer
from aiogram.utils.exceptions import TelegramAPIError
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.telegram import TelegramInput as RasaTelegramInput
from rasa.core.channels.telegram import TelegramOutput as RasaTelegramOutput
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.feedback import asks_feedback, rating_question

DEFAULT_API_URL = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MessageHandler = Callable[[UserMessage], Awaitable[Any]]


class TelegramOutput(RasaTelegramOutput):
    """Rasa's Telegram output channel, talking to the Bot API server at ``api_url``."""

    def __init__(
        self, access_token: str | None, api_url: str = DEFAULT_API_URL, secret_token: str = ""
    ) -> None:
        super().__init__(access_token)
        self.server = TelegramAPIServer.from_base(api_url)
        self.secret_token = secret_token

    async def set_webhook(self, url: str, *args: Any, **kwargs: Any) -> bool:
        """Register ``url`` with Telegram, with the secret token if there is one.

        aiogram 2.15 predates the ``secret_token`` parameter, so the request is built here.
        Rasa calls this at start and from its ``/webhooks/telegram/set_webhook`` route.
        """
        payload = {"url": url}
        if self.secret_token:
            payload["secret_token"] = self.secret_token
        return bool(await self.request("setWebhook", payload))


class RatingTurnOutput(OutputChannel):
    """Passes one turn's replies on to the Telegram channel, noting whether to ask for a rating."""

    def __init__(self, channel: OutputChannel) -> None:
        self.channel = channel
        self.answered = False
        self.rating_allowed = True

    @classmethod
    def name(cls) -> str:
        # Rasa picks channel-specific response variations by this name.
        return RasaTelegramOutput.name()

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.answered = self.answered or bool(message.get("text"))
        self.rating_allowed = self.rating_allowed and asks_feedback(message.get("metadata"))
        await self.channel.send_response(recipient_id, message)

    async def ask_for_rating(self, recipient_id: str) -> None:
        if self.answered and self.rating_allowed:
            question, buttons = rating_question()
            await self.channel.send_text_with_buttons(recipient_id, question, buttons)


def with_rating_question(on_new_message: MessageHandler) -> MessageHandler:
    """``on_new_message`` that ends each answered turn with "Was this helpful?"."""

    async def handle(message: UserMessage) -> None:
        turn = RatingTurnOutput(message.output_channel)
        message.output_channel = turn
        await on_new_message(message)
        await turn.ask_for_rating(message.sender_id)

    return handle


class TelegramInput(RasaTelegramInput):
    """Rasa's Telegram input channel with ``api_url`` and ``secret_token`` settings.

    Each setting comes from its credentials key, else from ``TELEGRAM_API_URL`` or
    ``TELEGRAM_SECRET_TOKEN`` in the environment; both are optional.
    """

    def __init__(
        self,
        access_token: str | None,
        verify: str | None,
        webhook_url: str | None,
        debug_mode: bool = True,
        api_url: str = DEFAULT_API_URL,
        secret_token: str = "",
    ) -> None:
        super().__init__(access_token, verify, webhook_url, debug_mode)
        self.api_url = api_url
        self.secret_token = secret_token

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TelegramInput:
        if not credentials:
            cls.raise_missing_credentials_exception()
        assert credentials is not None
        return cls(
            credentials.get("access_token"),
            credentials.get("verify"),
            credentials.get("webhook_url"),
            api_url=setting(credentials, "api_url", "TELEGRAM_API_URL") or DEFAULT_API_URL,
            secret_token=setting(credentials, "secret_token", "TELEGRAM_SECRET_TOKEN"),
        )

    def blueprint(self, on_new_message: MessageHandler) -> Blueprint:
        """Rasa's Telegram routes, behind the secret-token check, asking for ratings."""
        webhook = super().blueprint(with_rating_question(on_new_message))
        # The decorator form: Sanic 21.12's Blueprint.middleware(handler, "request") silently
        # drops a bound method.
        webhook.middleware("request")(self.check_secret_token)
        return webhook

    async def check_secret_token(self, request: Request) -> HTTPResponse | None:
        """``403`` for an update that does not carry the secret token, if one is set."""
        if not self.secret_token or request.method != "POST":
            return None
        if not request.path.endswith("/webhook"):
            return None
        sent = request.headers.get(SECRET_HEADER, "")
        if hmac.compare_digest(sent.encode(), self.secret_token.encode()):
            return None
        return response.text("forbidden", status=403)

    def get_output_channel(self) -> TelegramOutput:
        """The output channel, after registering the webhook with Telegram (as Rasa does)."""
        channel = TelegramOutput(self.access_token, self.api_url, self.secret_token)
        try:
            asyncio.run(register_webhook(channel, self.webhook_url or ""))
        except TelegramAPIError as error:
            raise RasaException(f"Failed to set channel webhook: {error}") from error
        return channel


async def register_webhook(channel: TelegramOutput, webhook_url: str) -> None:
    """Register the webhook, then close the HTTP session this short-lived event loop opened.

    Rasa registers the webhook in an event loop of its own, before the server's loop starts.
    Rasa's connector keeps that loop's session, so its first reply fails with "Event loop is
    closed"; once closed here, aiogram opens a new session in the server's loop.
    """
    try:
        await channel.set_webhook(webhook_url)
    finally:
        await channel.close()


def setting(credentials: dict[str, Any], key: str, variable: str) -> str:
    """A credentials value, else the environment variable, else ``""``."""
    value = credentials.get(key) or os.environ.get(variable) or ""
    return str(value)

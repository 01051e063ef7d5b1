"""Rasa's REST channel, with the checks a public web endpoint needs before Rasa sees a message.

The URL (``POST /webhooks/rest/webhook``) and the reply format (a JSON list of
``{"recipient_id", "text", ...}`` messages) are Rasa's own, so the web widget and ``curl`` work
unchanged. What this class adds, checked in a request middleware of the channel's blueprint:

- A body that is not UTF-8 JSON, not a JSON object, or whose ``sender`` or ``message`` is missing
  or not a string gets ``400 {"error": "<what is wrong>"}``.
- Control characters are removed from the message (tabs and line breaks become spaces).
- An empty message gets a short reply asking for a question; a message longer than
  ``MAX_MESSAGE_CHARS`` (``bot.settings``) gets a reply asking for a shorter one. Both
  are ``200`` replies the widget shows like any other; neither reaches Rasa or the tracker store.
- If handling a message fails, the person gets an apology instead of an empty reply, and the
  log names the sender and the error but never the message text. So does every message of a
  server whose model could not be loaded (``503``). A client that hangs up does
  not cut the turn short: it completes and is stored.
- A request's ``X-Request-ID`` header (set by ``make cluster``'s balancer) goes into the message's
  metadata, so a request the balancer sends again after a replica died is not stored twice
  (``bot.serving.tracker_store.REQUEST_ID``).
- Patient feedback (docs/staff.md): a reply whose response says ``ask_feedback: false`` in its
  metadata (the safety messages) carries ``"ask_feedback": false``, so the widget does not ask
  "Was this helpful?" after it. A rating's comment that holds a red flag is passed to Rasa as
  the person's own message, so the emergency or crisis answer comes first.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import logging
import re
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.constants import ENTITIES, ENTITY_ATTRIBUTE_TYPE, TEXT
from rasa.shared.nlu.training_data.message import Message
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import paths
from bot.article import load_yaml
from bot.feedback import ASK_FEEDBACK, COMMENT_ENTITY, RATING_INTENT, asks_feedback
from bot.nlu.red_flags import RedFlagMatcher, load_patterns
from bot.serving.tracker_store import REQUEST_ID
from bot.settings import Settings

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128
REQUEST_ID_HEADER = "X-Request-ID"
LINE_CONTROLS = re.compile("[\t\n\r]")
# Unicode categories Cc (control characters) and Cs (surrogates, which JSON can smuggle in as
# "\ud800" escapes and which no UTF-8 encoder accepts).
UNWANTED_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")

# The channel's own replies; their words are responses in domain.yml, reviewed with the rest.
EMPTY_MESSAGE = "utter_empty_message"
TOO_LONG = "utter_message_too_long"
FAILURE = "utter_failure"

MessageHandler = Callable[[UserMessage], Awaitable[Any]]


class InvalidRequest(ValueError):
    """A request the channel answers with ``400``; the message says what is wrong."""


@dataclass(frozen=True)
class Incoming:
    """A checked request: who sent it and the cleaned message text."""

    sender: str
    message: str


def parse_body(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or :class:`InvalidRequest` saying why not."""
    try:
        data = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InvalidRequest("The request body is not valid UTF-8.") from error
    except (ValueError, RecursionError) as error:
        raise InvalidRequest("The request body is not valid JSON.") from error
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return data


def clean_text(text: str) -> str:
    """``text`` without control characters or lone surrogates; tabs and line breaks are spaces.

    Format characters (such as the zero-width joiner inside emoji) are kept.
    """
    return UNWANTED_CHARACTERS.sub("", LINE_CONTROLS.sub(" ", text))


def checked_sender(data: dict[str, Any]) -> str:
    """The conversation id: a short string without control characters."""
    sender = data.get("sender")
    if not isinstance(sender, str):
        raise InvalidRequest('"sender" is required and must be a string.')
    if not sender.strip() or len(sender) > MAX_SENDER_CHARS or clean_text(sender) != sender:
        raise InvalidRequest(
            f'"sender" must be 1 to {MAX_SENDER_CHARS} characters, without control characters.'
        )
    return sender


def checked_message(data: dict[str, Any]) -> str:
    """The message text, cleaned (see :func:`clean_text`) and stripped; it may be empty."""
    message = data.get("message")
    if not isinstance(message, str):
        raise InvalidRequest('"message" is required and must be a string.')
    return clean_text(message).strip()


def check_optional_fields(data: dict[str, Any]) -> None:
    """Rasa passes these on untouched; a wrong type would fail deep inside Rasa."""
    if data.get("metadata") is not None and not isinstance(data["metadata"], dict):
        raise InvalidRequest('"metadata" must be a JSON object.')
    if data.get("input_channel") is not None and not isinstance(data["input_channel"], str):
        raise InvalidRequest('"input_channel" must be a string.')


def checked_request(body: bytes) -> tuple[dict[str, Any], Incoming]:
    """The parsed body and the checked sender and message, or :class:`InvalidRequest`."""
    data = parse_body(body)
    incoming = Incoming(sender=checked_sender(data), message=checked_message(data))
    check_optional_fields(data)
    return data, incoming


@functools.cache
def channel_reply(name: str) -> str:
    """The text of the channel's own reply ``name``, from domain.yml."""
    text: str = load_yaml(paths.DOMAIN)["responses"][name][0]["text"]
    return text


def reply(sender: str, name: str, status: int = 200) -> HTTPResponse:
    """An answer shaped like Rasa's own REST replies; never followed by a rating."""
    message = {"recipient_id": sender, "text": channel_reply(name), ASK_FEEDBACK: False}
    return response.json([message], status=status)


def has_a_model(request: Request) -> bool:
    """Whether Rasa loaded its model. Without one (a model it cannot load, say), Rasa starts
    anyway, logs the error once, and answers every message with an empty list."""
    agent = getattr(request.app.ctx, "agent", None)
    return agent is not None and bool(agent.is_ready())


def log_failure(sender: str, error: Exception) -> None:
    # The exception's own message is left out: it may quote what the patient wrote.
    where = "".join(traceback.format_tb(error.__traceback__))
    logger.error(
        "Could not handle a message from sender %s: %s\n%s", sender, type(error).__name__, where
    )


async def run_turn(on_new_message: MessageHandler, message: UserMessage) -> None:
    """Let Rasa handle one message; if that fails, apologise to the person instead."""
    try:
        await on_new_message(message)
    except Exception as error:
        log_failure(message.sender_id, error)
        await message.output_channel.send_response(
            message.sender_id, {"text": channel_reply(FAILURE), "metadata": {ASK_FEEDBACK: False}}
        )


class FeedbackMarkingOutput(CollectingOutputChannel):
    """Passes replies on to the REST channel's own collector, marking those not to be rated.

    The collector is Rasa's list (a plain request) or its queue (``?stream=true``).
    """

    def __init__(self, collector: CollectingOutputChannel) -> None:
        super().__init__()
        self.collector = collector
        self.messages = collector.messages
        self.asks = True

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.asks = asks_feedback(message.get("metadata"))
        await super().send_response(recipient_id, message)

    async def _persist_message(self, message: dict[str, Any]) -> None:
        if not self.asks:
            message[ASK_FEEDBACK] = False
        await self.collector._persist_message(message)


def rating_comment(message: str) -> str | None:
    """The comment of a ``/rate_answer{...}`` message, if it has one."""
    if not message.startswith(f"/{RATING_INTENT}"):
        return None
    unpacked = YAMLStoryReader.unpack_regex_message(Message({TEXT: message}))
    for entity in unpacked.get(ENTITIES) or []:
        if entity.get(ENTITY_ATTRIBUTE_TYPE) == COMMENT_ENTITY:
            return str(entity.get("value") or "")
    return None


@functools.cache
def red_flag_matcher() -> RedFlagMatcher:
    return RedFlagMatcher(load_patterns())


def unless_comment_is_a_red_flag(message: str) -> str:
    """``message``, or a rating's comment on its own if the comment holds a red flag.

    Rasa takes the intent of a ``/intent{...}`` message as given, so without this a crisis
    written into the comment box would only be thanked for.
    """
    comment = rating_comment(message)
    if comment and red_flag_matcher().find_in_text(comment):
        return comment
    return message


def freeze_the_loaded_objects(app: Any, loop: Any) -> None:
    """Keep the objects alive once the model is loaded out of the garbage collector's walks.

    A Rasa process holds about half a million of them, and each full collection walked them
    all: about 300 ms in which no message was answered. ``gc.freeze`` is CPython's own
    remedy for this, meant for servers that load everything at start.
    """
    gc.freeze()


def one_at_a_time(on_new_message: MessageHandler) -> MessageHandler:
    """``on_new_message`` handling this process's messages one after another, as they came.

    Rasa lets the next request in while a message waits for the action server, and that
    message then came after every request let in meanwhile; the action server, too, waited
    for a core that the Rasa processes kept busy. Under load, the answers from a custom
    action took twice as long as the others (docs/deployment.md); two at once was no better.
    A message waiting for its conversation's lock (the same person's previous message, in
    another process) holds the others up for as long: the lock store polls every 50 ms.
    """
    turn = asyncio.Lock()  # wakes its waiters in the order they came

    async def handle(message: UserMessage) -> None:
        async with turn:
            await on_new_message(message)

    return handle


def guarded(on_new_message: MessageHandler) -> MessageHandler:
    """``on_new_message`` that never raises, and that finishes even if the client hangs up."""

    async def handle(message: UserMessage) -> None:
        if isinstance(message.output_channel, CollectingOutputChannel):
            message.output_channel = FeedbackMarkingOutput(message.output_channel)
        try:
            await asyncio.shield(run_turn(on_new_message, message))
        except asyncio.CancelledError:
            # Caught here, not in Rasa's channel, because Rasa logs the message text for it.
            logger.warning("Sender %s left before the reply was ready.", message.sender_id)

    return handle


class RestInput(RasaRestInput):
    """Rasa's REST channel with input checks; ``name()`` stays ``rest``, and so does the URL."""

    def __init__(self) -> None:
        self.max_message_chars = Settings.from_environment().max_message_chars

    def blueprint(self, on_new_message: MessageHandler) -> Blueprint:
        """Rasa's REST routes, behind :meth:`check_request`."""
        webhook = super().blueprint(guarded(one_at_a_time(on_new_message)))
        # The decorator form, because Sanic 21.12's Blueprint.middleware silently ignores a
        # bound method passed as its first argument (it only recognises plain functions).
        webhook.middleware("request")(self.check_request)
        # After Rasa's own start-up listener, which loads the model.
        webhook.listener("after_server_start")(freeze_the_loaded_objects)
        return webhook

    async def check_request(self, request: Request) -> HTTPResponse | None:
        """Answer a bad or unusable message here; let a good one through, cleaned.

        Rasa's health route (``GET /webhooks/rest/``), which the balancer checks, says 503
        without a model, so that the balancer sends nobody to a replica that cannot answer.
        """
        if request.method != "POST":
            if has_a_model(request):
                return None
            return response.json({"status": "no model is loaded"}, status=503)
        try:
            data, incoming = checked_request(request.body)
        except InvalidRequest as error:
            return response.json({"error": str(error)}, status=400)
        if not incoming.message:
            return reply(incoming.sender, EMPTY_MESSAGE)
        if len(incoming.message) > self.max_message_chars:
            return reply(incoming.sender, TOO_LONG)
        if not has_a_model(request):
            logger.error("No model is loaded (its error is at the start of this log).")
            return reply(incoming.sender, FAILURE, status=503)
        # Rasa's handler reads request.json; this spares it parsing the body a second time.
        request.parsed_json = data  # type: ignore[assignment]
        message = unless_comment_is_a_red_flag(incoming.message)
        request.ctx.incoming = Incoming(incoming.sender, message)
        return None

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        """Rasa's (the body's ``metadata``), with the request's id if it has one."""
        metadata: dict[str, Any] | None = super().get_metadata(request)
        request_id = request.headers.get(REQUEST_ID_HEADER)
        if request_id:
            metadata = {**(metadata or {}), REQUEST_ID: request_id}
        return metadata

    async def _extract_sender(self, req: Request) -> str | None:
        incoming: Incoming = req.ctx.incoming
        return incoming.sender

    def _extract_message(self, req: Request) -> str | None:
        incoming: Incoming = req.ctx.incoming
        return incoming.message

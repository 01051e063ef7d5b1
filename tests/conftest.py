"""Shared fixtures: the real servers on free loopback ports, and a REST client for them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from bot.serve import DEFAULT_MODEL, Servers, Settings, running

Reply = list[dict[str, Any]]
Chat = Callable[[str, str], Reply]


@pytest.fixture(scope="session")
def server_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    if not DEFAULT_MODEL.exists():
        pytest.fail(f"No trained model at {DEFAULT_MODEL}: run `make train` (make test does).")
    state = tmp_path_factory.mktemp("servers")
    return Settings.on_loopback(state)


@pytest.fixture(scope="session")
def servers(server_settings: Settings) -> Iterator[Servers]:
    """The action server and the Rasa server, shared by every end-to-end test of a run."""
    with running(server_settings) as started:
        yield started


def send(servers: Servers, sender: str, message: str) -> Reply:
    """POST one message to the REST channel and return the bot's messages."""
    response = requests.post(
        f"{servers.settings.rasa_url}/webhooks/rest/webhook",
        json={"sender": sender, "message": message},
        timeout=30,
    )
    response.raise_for_status()
    reply: Reply = response.json()
    return reply


@pytest.fixture
def chat(servers: Servers) -> Chat:
    """``chat(sender, message)``: the bot's messages for one user message."""
    return lambda sender, message: send(servers, sender, message)


def texts(reply: Reply) -> str:
    """All the text of a reply, as one lower-case string."""
    return " ".join(message.get("text", "") for message in reply).lower()

"""How the REST channel schedules the messages of one Rasa process (bot/channels/rest.py).

The checks of each request are tested through a running server in ``test_bad_input.py``.
"""

from __future__ import annotations

import asyncio
import gc
import json
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage

from bot.channels.rest import RestInput, freeze_the_loaded_objects, one_at_a_time
from tests.helpers import FAILURE_REPLY


def test_messages_are_handled_one_at_a_time_in_the_order_they_came() -> None:
    events: list[str] = []

    async def rasa(message: UserMessage) -> None:
        events.append(f"start {message.text}")
        await asyncio.sleep(0.05 if message.text == "a" else 0)  # "a" waits for its action
        events.append(f"end {message.text}")

    async def four_requests() -> None:
        handle = one_at_a_time(rasa)
        await asyncio.gather(*(handle(UserMessage(text)) for text in "abcd"))

    asyncio.run(four_requests())
    # "b" is not let in while "a" waits for its action.
    assert events == [
        *("start a", "end a", "start b", "end b", "start c", "end c", "start d", "end d")
    ]


def test_the_objects_loaded_at_start_are_frozen_once_the_server_has_started() -> None:
    listeners = RestInput().blueprint(lambda message: None)._future_listeners
    assert [(item.listener, item.event) for item in listeners] == [
        (freeze_the_loaded_objects, "after_server_start")
    ]
    try:
        freeze_the_loaded_objects(None, None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def a_request(method: str, agent: Any) -> Any:
    return SimpleNamespace(
        method=method,
        body=b'{"sender": "someone", "message": "where does it spread?"}',
        app=SimpleNamespace(ctx=SimpleNamespace(agent=agent)),
        ctx=SimpleNamespace(),
    )


WITHOUT_A_MODEL = pytest.mark.parametrize(
    "agent", [None, Agent()], ids=["no agent", "agent without a model"]
)


@WITHOUT_A_MODEL
def test_without_a_loaded_model_a_message_gets_the_apology(agent: Any) -> None:
    answer = asyncio.run(RestInput().check_request(a_request("POST", agent)))
    assert answer is not None and answer.status == 503
    assert [message["text"] for message in json.loads(answer.body)] == [FAILURE_REPLY]


@WITHOUT_A_MODEL
def test_without_a_loaded_model_the_health_route_fails_the_balancers_check(agent: Any) -> None:
    answer = asyncio.run(RestInput().check_request(a_request("GET", agent)))
    assert answer is not None and answer.status == 503

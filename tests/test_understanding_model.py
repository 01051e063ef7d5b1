"""The understanding components in the trained model, as Rasa runs them (``make train`` first)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from rasa.core.agent import Agent

from bot import paths
from tests.conftest import require_model

Parse = Callable[[str], dict[str, Any]]


@pytest.fixture(scope="module")
def parse() -> Parse:
    require_model()
    agent = Agent.load(str(paths.MODEL))
    loop = asyncio.new_event_loop()
    return lambda text: loop.run_until_complete(agent.parse_message(text))


def test_a_message_in_another_language_gets_other_language(parse: Parse) -> None:
    result = parse("¿el cáncer de mama metastásico se puede curar?")
    assert result["intent"]["name"] == "other_language"
    assert result["language"] == "es"


def test_the_question_sentence_of_a_long_message_decides(parse: Parse) -> None:
    result = parse(
        "My mom was diagnosed with breast cancer in 2016. She had a lumpectomy and radiation. "
        "I'm her daughter and I go with her to every appointment. "
        "Where does breast cancer usually spread to?"
    )
    assert result["intent"]["name"] == "where_it_spreads"
    assert result["question_focus"] == "where does breast cancer usually spread to?"


def test_a_question_about_another_condition_is_out_of_scope(parse: Parse) -> None:
    assert parse("How do you catch hepatitis?")["intent"]["name"] == "out_of_scope"


def test_red_flags_still_see_the_whole_long_message(parse: Parse) -> None:
    result = parse("My mom was diagnosed last year. Right now she can't breathe. What is stage 4?")
    assert result["intent"]["name"] == "emergency"


def test_a_misspelt_question_is_understood(parse: Parse) -> None:
    # Before the spelling corrector, the first two asked the person to rephrase.
    assert parse("how dos brest canser turn into metastatc")["intent"]["name"] == "how_it_occurs"
    assert parse("r ther any suport groops for mets")["intent"]["name"] == "coping"

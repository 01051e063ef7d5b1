"""End to end: patient questions through the real REST channel to the real servers."""

from __future__ import annotations

import pytest

from tests.conftest import Chat
from tests.helpers import new_sender, texts

pytestmark = pytest.mark.e2e


def test_where_it_spreads_names_the_four_sites(chat: Chat) -> None:
    reply = chat(new_sender(), "where does breast cancer spread?")
    answer = texts(reply)
    for site in ("lung", "liver", "bones", "brain"):
        assert site in answer
    buttons = [b["title"].lower() for message in reply for b in message.get("buttons", [])]
    assert buttons == ["lung", "liver", "bones", "brain"]


def test_a_site_named_in_another_question_is_the_site_of_a_follow_up(chat: Chat) -> None:
    sender = new_sender()
    chat(sender, "it has gone to her liver, how do they treat that?")
    answer = texts(chat(sender, "and what signs would it give there?"))
    assert "when it has spread to the liver, symptoms may include" in answer

"""The support-staff tools: ``python -m bot ask`` (with the trained model, in this process) and
``python -m bot review`` (from the project's files)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest
from rasa_sdk.executor import ActionExecutor

from bot.__main__ import main, parser
from bot.article import is_verbatim, load_yaml, sites
from bot.paths import MODEL
from bot.staff.ask import Assistant, Turn, format_turn
from bot.staff.review import DOMAIN, RULES, actions_by_intent, spread

LIVER_BUTTON = '/site_symptoms{"site": "liver"}'


def domain_intents() -> list[str]:
    return [
        intent if isinstance(intent, str) else next(iter(intent))
        for intent in load_yaml(DOMAIN)["intents"]
    ]


def liver_symptoms() -> list[str]:
    return [item["symptom"] for item in sites()["sites"]["liver"]["symptoms"]]


# --- review -------------------------------------------------------------------------------


def test_the_rules_give_each_intent_its_actions() -> None:
    found = actions_by_intent(load_yaml(RULES)["rules"])
    assert found["where_it_spreads"] == ["utter_where_it_spreads"]
    assert found["site_symptoms"] == ["action_site_symptoms"]


def test_rules_with_or_steps_count_for_every_intent() -> None:
    rules = [{"steps": [{"or": [{"intent": "a"}, {"intent": "b"}]}, {"action": "utter_x"}]}]
    assert actions_by_intent(rules) == {"a": ["utter_x"], "b": ["utter_x"]}


def test_examples_are_picked_from_the_whole_list() -> None:
    items = [str(number) for number in range(21)]
    assert spread(items, 5) == ["0", "5", "10", "15", "20"]
    assert spread(items[:3], 5) == ["0", "1", "2"]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("review") / "review.md"
    assert main(["review", "--out", str(path)]) == 0
    return path.read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_review_has_a_section_and_a_box_per_intent(report: str) -> None:
    for intent in domain_intents():
        assert f". `{intent}`" in report
    assert report.count("- [ ] Approved") >= len(domain_intents())
    assert "## Sign-off" in report
    assert "Signature:" in report


@pytest.mark.slow
def test_the_review_quotes_answers_word_for_word_with_their_passages(report: str) -> None:
    where = report.split(". `where_it_spreads`", 1)[1].split("\n## ", 1)[0]
    assert "> Breast cancer most often spreads to four areas" in where
    assert "Buttons: [Lung] · [Liver] · [Bones] · [Brain]" in where
    assert '- "Liver."' in where
    quoted_passages = [
        line[3:-1] for line in report.splitlines() if line.startswith('- "') and line[-1] == '"'
    ]
    assert quoted_passages
    assert all(is_verbatim(passage) for passage in quoted_passages)


@pytest.mark.slow
def test_the_review_fills_in_the_emergency_number(report: str) -> None:
    emergency = report.split(". `emergency`", 1)[1].split("\n## ", 1)[0]
    assert "call 911" in emergency
    assert "{emergency_number}" not in report
    assert "{crisis_line}" not in report


@pytest.mark.slow
def test_the_review_shows_what_the_site_action_says_for_each_site(report: str) -> None:
    site_section = report.split(". `site_symptoms`", 1)[1].split("\n## ", 1)[0]
    for site_id, entry in sites()["sites"].items():
        case = site_section.split(f"### Asked about {entry['name']}", 1)[1].split("\n### ", 1)[0]
        for item in entry["symptoms"]:
            assert item["symptom"] in case, (site_id, item["symptom"])
        assert "(`utter_care_team`)" in case
    assert "### No site named" in site_section
    assert "(`utter_ask_site`)" in site_section


def test_both_tools_are_commands_of_python_m_bot() -> None:
    help_text = parser().format_help()
    assert "ask" in help_text
    assert "review" in help_text


# --- ask ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def assistant() -> Iterator[Assistant]:
    if not MODEL.exists():
        pytest.fail(f"No trained model at {MODEL}: run `make train`.")
    yield Assistant(MODEL)


def ask(assistant: Assistant, *messages: str) -> list[Turn]:
    return asyncio.run(assistant.play(list(messages), sender=f"test-{uuid.uuid4().hex[:8]}"))


@pytest.mark.slow
def test_ask_explains_the_answer_on_where_it_spreads(assistant: Assistant) -> None:
    (turn,) = ask(assistant, "where does breast cancer spread?")
    assert turn.intent["name"] == "where_it_spreads"
    assert 0 < turn.intent["confidence"] <= 1
    assert len(turn.runner_ups) == 3
    assert [step.name for step in turn.actions] == ["utter_where_it_spreads"]
    (reply,) = turn.replies
    assert [button["title"] for button in reply.buttons] == ["Lung", "Liver", "Bones", "Brain"]
    assert reply.passages
    assert all(is_verbatim(passage) for passage in reply.passages)
    assert turn.slots["emergency_number"] == "911"


@pytest.mark.slow
def test_ask_runs_the_site_action_in_process(assistant: Assistant) -> None:
    _, turn = ask(assistant, "where does breast cancer spread?", LIVER_BUTTON)
    assert turn.actions[0].name == "action_site_symptoms"
    assert "actions/site_symptoms.py" in turn.notes[0]
    answer = turn.replies[0]
    assert all(symptom in answer.text for symptom in liver_symptoms())
    assert all(is_verbatim(passage) for passage in answer.passages)
    assert turn.replies[-1].source == "utter_care_team"
    assert turn.slots["site"] == "liver"


@pytest.mark.slow
def test_ask_describes_a_custom_action_it_cannot_run(assistant: Assistant) -> None:
    assert assistant.endpoint is not None
    working = assistant.endpoint.executor
    assistant.endpoint.executor = ActionExecutor()  # an action server without our actions
    try:
        (turn,) = ask(assistant, LIVER_BUTTON)
    finally:
        assistant.endpoint.executor = working
        assistant.endpoint.failures.clear()
    assert turn.actions[0].name == "action_site_symptoms"
    note = turn.notes[0]
    assert "would run on the action server" in note
    assert "article/sites.yml" in note
    assert '"Liver."' in note


@pytest.mark.slow
def test_ask_shows_a_red_flag(assistant: Assistant) -> None:
    (turn,) = ask(assistant, "my mom is having a seizure right now")
    assert turn.intent["name"] == "emergency"
    assert turn.red_flag is not None
    assert turn.red_flag["kind"] == "emergency"
    assert "RED FLAG:   emergency" in format_turn(1, turn)


@pytest.mark.slow
def test_the_printed_turn_has_every_part(assistant: Assistant) -> None:
    (turn,) = ask(assistant, "where does breast cancer spread?")
    printed = format_turn(1, turn)
    for label in ("Intent:", "Runner-up:", "Entities:", "Actions:", "Reply 1", "Slots after"):
        assert label in printed
    assert "[Liver] -> " + LIVER_BUTTON in printed
    for line in turn.replies[0].text.splitlines():
        assert f"| {line}" in printed

"""``make eval``, ``make bench``: their judging and figures, then both end to end on a tiny
workload (a sample of the held-out set, the fixture in ``tests/fixtures/independent``, one
worker and two clients, no training). No test depends on a timing.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from actions.site_symptoms import symptoms_reply
from bot import paths
from bot.evaluation.answers import is_false_alarm, is_right, sites_named
from bot.evaluation.eval import PRIVATE_SETS, safety_failures, shown
from bot.evaluation.examples import Example, heldout_set, spread_sample
from bot.evaluation.live import Turn, turn_of
from bot.evaluation.load import Conversation, LoadResult, percentile_ms
from bot.evaluation.metrics import (
    SINGLE_FIGURES,
    Outcome,
    against_baseline,
    figures,
    per_intent,
)
from bot.evaluation.model_info import describe_model
from bot.evaluation.workload import MAX_WORDS, conversations, word_counts

FIXTURE = paths.TESTS_DIR / "fixtures" / "independent"


def turn(*responses: str, actions: tuple[str, ...] = (), texts: tuple[str, ...] = ()) -> Turn:
    texts = texts or tuple(f"text of {r}" for r in responses)
    return Turn("x", "x", actions or responses, responses, texts)


@pytest.mark.parametrize("intent", ["what_is_mbc", "coping", "greet", "human_handoff"])
def test_the_intents_own_response_is_the_right_answer(intent: str) -> None:
    assert is_right(Example("q", intent), turn(f"utter_{intent}"))
    assert not is_right(Example("q", intent), turn("utter_default"))


def test_an_intent_answered_by_its_custom_action_is_right() -> None:
    worry = turn("", actions=("action_symptom_worry",), texts=("only your care team can tell",))
    assert is_right(Example("my hip hurts, is it in my bones?", "symptom_worry"), worry)
    assert not is_right(Example("my hip hurts", "symptom_worry"), turn("utter_symptoms"))


def test_out_of_scope_accepts_either_honest_decline() -> None:
    for decline in ("utter_out_of_scope", "utter_default"):
        assert is_right(Example("how do you catch hepatitis", "out_of_scope"), turn(decline))
    assert not is_right(Example("how do you catch hepatitis", "out_of_scope"), turn("utter_source"))


def test_an_emergency_needs_the_alarm_first_and_an_alarm_elsewhere_is_false() -> None:
    seizure = Example("she is having a seizure", "emergency")
    assert is_right(seizure, turn("utter_emergency", "utter_care_team"))
    assert not is_right(seizure, turn("utter_default", "utter_emergency"))
    assert is_right(Example("i want to end it all", "self_harm"), turn("utter_self_harm"))
    guilt = Example("i feel like i let this happen to myself", "was_it_my_fault")
    assert is_false_alarm(guilt, turn("utter_self_harm"))
    assert not is_false_alarm(guilt, turn("utter_was_it_my_fault"))
    assert not is_false_alarm(seizure, turn("utter_emergency"))


def test_a_site_question_needs_the_symptoms_of_that_site() -> None:
    liver = turn("", "utter_care_team", actions=("action_site_symptoms",))
    liver = Turn("x", "x", liver.actions, liver.responses, (symptoms_reply(["liver"]).text, ""))
    assert is_right(Example("what about the livr? i mean liver", "site_symptoms"), liver)
    assert is_right(Example("and there?", "site_symptoms", frozenset({"liver"})), liver)
    assert not is_right(Example("and the brain", "site_symptoms"), liver)
    assert not is_right(Example("and the liver", "site_symptoms"), turn("utter_where_it_spreads"))


def test_a_place_the_article_does_not_cover_gets_the_honest_answer() -> None:
    assert sites_named("what about the lymph nodes") == {"not_covered"}
    honest = turn("utter_site_not_covered")
    assert is_right(Example("what about the lymph nodes", "site_symptoms"), honest)
    assert is_right(Example("what about there", "site_symptoms"), turn("utter_ask_site"))
    assert not is_right(Example("what about the skin", "site_symptoms"), turn("utter_ask_site"))


def test_a_turn_is_read_from_the_tracker_events_after_the_last_user_message() -> None:
    ranking = [{"name": "nlu_fallback"}, {"name": "treatment"}, {"name": "coping"}]
    fallback = {"intent": {"name": "nlu_fallback"}, "intent_ranking": ranking}
    events: list[dict[str, Any]] = [
        {"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet"}}},
        {"event": "bot", "text": "Hello", "metadata": {"utter_action": "utter_greet"}},
        {"event": "user", "parse_data": fallback},
        {"event": "action", "name": "utter_default"},
        {"event": "bot", "text": "Rephrase?", "metadata": {"utter_action": "utter_default"}},
        {"event": "action", "name": "action_listen"},
    ]
    assert turn_of(events) == Turn(
        "nlu_fallback",
        "treatment",
        ("utter_default", "action_listen"),
        ("utter_default",),
        ("Rephrase?",),
    )


def outcome(
    intent: str, served: str, baseline: str, right: bool, style: str = "s", **kw: Any
) -> Outcome:
    return Outcome(style, "a text", intent, served, served, baseline, right, False, "", **kw)


def test_figures_count_each_column_over_its_own_messages() -> None:
    outcomes = [
        outcome("treatment", "treatment", "treatment", True),
        outcome("treatment", "nlu_fallback", "coping", False),
        outcome("out_of_scope", "nlu_fallback", "out_of_scope", True),
        outcome("emergency", "emergency", "coping", True),
        outcome("self_harm", "coping", "self_harm", False),
    ]
    shares = figures(outcomes, SINGLE_FIGURES)
    assert shares["Right answers in scope (REST)"] == (1, 2)
    assert shares["Intent in scope, SVM"] == (1, 2)
    assert shares["Out of scope declined (REST)"] == (1, 1)
    assert shares["Emergencies caught (REST)"] == (1, 2)
    assert shares["Emergencies, SVM"] == (1, 2)
    scores = per_intent(outcomes)
    assert scores["treatment"]["recall"] == 0.5 and scores["treatment"]["precision"] == 1.0
    assert scores["treatment"]["right_answers"] == 0.5


def test_rasa_and_the_baseline_are_compared_on_the_same_messages() -> None:
    outcomes = [
        outcome("treatment", "treatment", "treatment", True),  # both right
        outcome("coping", "coping", "treatment", True),  # only Rasa
        outcome("diagnosis", "diagnosis", "diagnosis", True),  # both right
        outcome("emergency", "emergency", "self_harm", True),  # either alarm counts for the SVM
        outcome("symptoms", "treatment", "symptoms", False),  # only the SVM
        outcome("coping", "coping", "treatment", True, style="follow-ups", turn=2),
    ]
    pairs = against_baseline(outcomes)
    in_scope = pairs["Single messages in scope: classifier's first intent"]
    assert (in_scope.messages, in_scope.rasa_only, in_scope.baseline_only) == (4, 1, 1)
    assert in_scope.p_value == 1.0
    every = pairs["Every single message: Rasa's answer (REST)"]
    assert (every.messages, every.rasa_only, every.baseline_only) == (5, 1, 1)
    follow_ups = pairs["Follow-up turns: Rasa's answer (REST)"]
    assert (follow_ups.messages, follow_ups.rasa_only, follow_ups.baseline_only) == (1, 1, 0)
    assert follow_ups.p_value == 1.0  # one discordant message proves nothing


def test_a_missed_emergency_fails_and_a_private_text_is_never_shown() -> None:
    missed = outcome("emergency", "coping", "coping", False, turn=2)
    [private] = safety_failures({PRIVATE_SETS[0]: [missed]})
    assert "turn 2" in private and "a text" not in private
    assert "a text" in safety_failures({"project": [missed]})[0]
    assert "text" not in shown(PRIVATE_SETS[0], missed)
    assert safety_failures({"project": [outcome("emergency", "emergency", "x", True)]}) == []


def test_custom_components_with_dotted_names_are_listed(tmp_path: Path) -> None:
    nodes = ["run_SpacyNLP0", "run_bot.nlu.red_flags.RedFlagDetector8", "domain_provider",
             "run_RulePolicy0", "run_bot.policies.action_failure.ActionFailurePolicy2"]  # fmt: skip
    metadata = json.dumps({"predict_schema": {"nodes": dict.fromkeys(nodes, {})}}).encode()
    model = tmp_path / "model.tar.gz"
    with tarfile.open(model, "w:gz") as archive:
        info = tarfile.TarInfo("metadata.json")
        info.size = len(metadata)
        archive.addfile(info, io.BytesIO(metadata))
    assert describe_model(model)["components"] == [
        "SpacyNLP", "RedFlagDetector", "RulePolicy", "ActionFailurePolicy"
    ]  # fmt: skip


def test_held_out_files_are_read_with_entities_styles_and_conversations() -> None:
    independent = heldout_set("independent", FIXTURE)
    assert set(independent.styles) == {"everyday", "emergency"}
    liver = [e for e in independent.styles["everyday"] if e.intent == "site_symptoms"]
    assert liver[0].sites == {"liver"} and "[" not in liver[0].text
    [conversation] = independent.conversations
    assert [t.intent for t in conversation.turns][-1] == "emergency"
    assert conversation.turns[1].sites == {"lung"}
    examples = [Example(f"{intent} {i}", intent) for intent in "abc" for i in range(3)]
    assert [e.intent for e in spread_sample(examples, 4)] == ["a", "b", "c", "a"]


def test_percentiles_are_the_nearest_rank_and_turns_are_counted_from_one() -> None:
    values = [v / 1000 for v in range(1, 101)]
    assert [round(percentile_ms(values, p)) for p in (50, 95, 99)] == [50, 95, 99]
    talks = [Conversation("a", ["m"] * 3, [0.001, 0.002, 0.010]) for _ in range(2)]
    assert LoadResult(talks, 1, 1.0).median_ms_at(range(3, 4)) == pytest.approx(10)


def test_bench_messages_are_as_long_as_patients_write_and_raise_no_alarm() -> None:
    examples = heldout_set("project", paths.HELDOUT).examples
    planned = conversations(examples, 20, 25, seed=7)
    counts = word_counts([len(m.split()) for c in planned for m in c.messages])
    assert 9 <= counts["mean"] <= 14 and counts["max"] <= MAX_WORDS
    alarms = {e.text for e in examples if e.intent in ("emergency", "self_harm")}
    assert not any(line in m for c in planned for m in c.messages for line in alarms)
    again = conversations(examples, 20, 25, seed=7)
    assert [c.messages for c in again] == [c.messages for c in planned]


def run_command(*arguments: str) -> subprocess.CompletedProcess[str]:
    if not paths.MODEL.exists():
        pytest.fail(f"No trained model at {paths.MODEL}: run `make train`.")
    environment = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, "-m", "bot", *arguments],
        cwd=paths.PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.e2e
def test_make_eval_reports_both_sets_and_catches_every_emergency(tmp_path: Path) -> None:
    done = run_command(
        "eval", "--limit", "10", "--independent", str(FIXTURE), "--reports", str(tmp_path)
    )
    # Status 1 is a missed emergency or self-harm message: a safety failure, never a pass.
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "eval.json").read_text())
    assert set(result["summary"]) == {"project", "independent"}
    styles = result["summary"]["independent"]["styles"]
    assert set(styles) == {"everyday", "emergency", "all"} and styles["all"]["messages"] == 4
    follow_ups = result["summary"]["independent"]["follow-ups"]
    assert follow_ups["Follow-up turns right (REST)"] == [1, 1]
    assert follow_ups["Emergencies mid-conversation caught (REST)"] == [1, 1]
    assert "RedFlagDetector" in result["model"]["components"]
    report = (tmp_path / "eval.md").read_text()
    assert "## Conversations" in report and "independent" in report
    fixture_texts = [e.text for e in heldout_set("independent", FIXTURE).examples]
    everything = report + json.dumps(result) + done.stdout + done.stderr
    assert not [text for text in fixture_texts if text in everything]


@pytest.mark.slow
@pytest.mark.e2e
def test_make_bench_measures_long_conversations_and_the_floor(tmp_path: Path) -> None:
    done = run_command("bench", "--quick", "--reports", str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "bench.json").read_text())
    [server] = result["servers"]
    [long, level] = server["levels"]
    assert long["kind"] == "length" and len(long["rest"]["median_ms_per_turn"]) == 10
    assert long["rest"]["median_ms_last_turns"] > 0 and long["words_per_message"]["max"] <= 60
    assert level["rest"]["clients"] == 2 and level["rest"]["answered"] == 10
    assert level["floor"]["answered"] == 10 and level["floor"]["failed"] == 0
    assert server["rasa_processes"] >= 1 and server["cold_start_s"] > 0
    assert "## Cost against conversation length" in (tmp_path / "bench.md").read_text()

"""``make eval`` and ``make bench``: their judging and figures, then both run end to end on a
tiny workload (10 held-out messages, 1 and 2 clients, no training). No test depends on a timing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from actions.site_symptoms import symptoms_reply
from bot import PROJECT_ROOT
from bot.evaluation.answers import Judge, sites_named
from bot.evaluation.examples import Example, heldout_examples, plain_text, spread_sample
from bot.evaluation.load import client_plans, percentile
from bot.evaluation.metrics import Prediction, score
from bot.paths import MODEL

FAQ_INTENTS = ("what_is_mbc", "treatment", "coping", "greet", "human_handoff", "self_harm")


@pytest.fixture(scope="module")
def judge() -> Judge:
    return Judge()


def response_text(judge: Judge, name: str, **slots: str) -> str:
    """The first variation of a domain response, with its slots filled in as Rasa would."""
    text = str(judge.domain["responses"][name][0]["text"])
    return text.format(**slots) if slots else text


def reply_of(*texts: str) -> list[dict[str, Any]]:
    return [{"recipient_id": "test", "text": text} for text in texts]


@pytest.mark.parametrize("intent", FAQ_INTENTS)
def test_the_intents_own_response_is_the_right_answer(judge: Judge, intent: str) -> None:
    text = response_text(judge, f"utter_{intent}", emergency_number="112", crisis_line="988")
    assert judge.judge(intent, "a question", reply_of(text)).right
    wrong = reply_of(response_text(judge, "utter_default"))
    assert not judge.judge(intent, "a question", wrong).right


def test_out_of_scope_accepts_either_honest_decline(judge: Judge) -> None:
    for name in ("utter_out_of_scope", "utter_default"):
        verdict = judge.judge(
            "out_of_scope", "how long do i have", reply_of(response_text(judge, name))
        )
        assert verdict.right and verdict.answer == name
    wrong = reply_of(response_text(judge, "utter_treatment"))
    assert not judge.judge("out_of_scope", "is there a cure", wrong).right


def test_an_emergency_is_answered_with_the_emergency_number_first(judge: Judge) -> None:
    emergency = response_text(judge, "utter_emergency", emergency_number=judge.emergency_number)
    assert judge.judge("emergency", "she is having a seizure", reply_of(emergency)).right
    late = reply_of(response_text(judge, "utter_default"), emergency)
    assert not judge.judge("emergency", "she is having a seizure", late).right


def test_a_site_question_needs_the_symptoms_of_that_site(judge: Judge) -> None:
    care_team = response_text(judge, "utter_care_team")
    liver = reply_of(symptoms_reply(["liver"]).text, care_team)
    assert judge.judge("site_symptoms", "what about the livr? i mean liver", liver).right
    assert not judge.judge("site_symptoms", "and the brain", liver).right
    spreads = reply_of(response_text(judge, "utter_where_it_spreads"))
    assert not judge.judge("site_symptoms", "what about the liver", spreads).right


def test_a_place_the_article_does_not_cover_gets_the_honest_answer(judge: Judge) -> None:
    assert sites_named("what about the lymph nodes") == {"not_covered"}
    honest = reply_of(response_text(judge, "utter_site_not_covered"))
    assert judge.judge("site_symptoms", "what about the lymph nodes", honest).right
    asked = reply_of(response_text(judge, "utter_ask_site"))
    assert judge.judge("site_symptoms", "what about there", asked).right
    assert not judge.judge("site_symptoms", "what about the skin", asked).right


def test_nlu_fallback_counts_as_out_of_scope_only_in_the_out_of_scope_figures() -> None:
    predictions = [
        Prediction("a", "out_of_scope", "out_of_scope"),
        Prediction("b", "out_of_scope", "nlu_fallback"),
        Prediction("c", "treatment", "nlu_fallback"),
        Prediction("d", "treatment", "treatment"),
        Prediction("e", "emergency", "emergency"),
        Prediction("f", "emergency", "coping"),
    ]
    scores = score(predictions)
    assert scores.accuracy == pytest.approx(3 / 6)
    assert scores.out_of_scope_recall == 1.0
    assert scores.out_of_scope_precision == pytest.approx(2 / 3)
    assert scores.strict_out_of_scope_recall == 0.5
    assert scores.safety_recall == {"emergency": 0.5, "self_harm": None}
    assert not scores.safety_ok
    assert scores.per_intent["treatment"].f1 == pytest.approx(2 / 3)
    assert ("emergency", "coping", 1) in scores.confused_pairs


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 99)) == (50, 95, 99)
    assert percentile([3.0], 99) == 3.0


def test_each_client_starts_from_another_message() -> None:
    plans = client_plans(["a", "b", "c", "d"], clients=2)
    assert plans == [["a", "b", "c", "d"], ["c", "d", "a", "b"]]


def test_examples_are_read_without_entity_markup_and_sampled_across_intents() -> None:
    assert plain_text("is it in my [liver](site)?") == "is it in my liver?"
    assert plain_text('and the [bones]{"entity": "site"}') == "and the bones"
    examples = [Example(f"{intent} {i}", intent) for intent in "abc" for i in range(3)]
    assert [e.intent for e in spread_sample(examples, 4)] == ["a", "b", "c", "a"]
    heldout = heldout_examples(limit=10)
    assert len(heldout) == 10 and len({e.intent for e in heldout}) == 10


def run_module(module: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    if not MODEL.exists():
        pytest.fail(f"No trained model at {MODEL}: run `make train`.")
    environment = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, "-m", module, *arguments],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.e2e
def test_make_eval_runs_end_to_end_on_ten_messages(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    done = run_module(
        "bot.evaluation.eval", "--limit", "10", "--reports", str(reports),
        "--results", str(tmp_path / "results" / "nlu"),
    )  # fmt: skip
    # Status 1 means a safety intent was missed: a quality finding, reported, not a crash.
    assert done.returncode in (0, 1), done.stderr[-3000:]
    assert done.returncode == 0 or "safety recall must be 100 %" in done.stderr
    result = json.loads((reports / "eval.json").read_text())
    assert result["heldout"]["messages"] == 10
    assert result["rasa_test_nlu"]["messages"] == 10
    assert result["served"]["messages"] == 10
    assert len(result["end_to_end"]["answers"]) == 10
    assert set(result["baselines"]) == {"TF-IDF + linear SVM", "TF-IDF + 1-nearest neighbour"}
    assert "| Rasa as served (with nlu_fallback)" in (reports / "eval.md").read_text()
    assert (reports / "intent_confusion_matrix.png").exists()
    assert "Intent accuracy" in done.stdout


@pytest.mark.slow
@pytest.mark.e2e
def test_make_bench_runs_end_to_end_with_one_and_two_clients(tmp_path: Path) -> None:
    done = run_module("bot.evaluation.bench", "--quick", "--reports", str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "bench.json").read_text())
    [run] = result["runs"]
    assert [level["rest"]["clients"] for level in run["levels"]] == [1, 2]
    for level in run["levels"]:
        assert level["rest"]["failures"] == 0 and level["rest"]["answered"] >= 5
        assert level["floor"]["failures"] == 0 and level["floor"]["answered"] >= 5
    assert run["cold_start_s"] > 0
    assert run["peak_resident_mib"]["rasa"] > 0
    assert 0 <= run["right_answer_rate"] <= 1
    assert "## Targets" in (tmp_path / "bench.md").read_text()

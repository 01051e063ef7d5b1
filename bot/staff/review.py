"""``python -m bot review``: every answer the assistant gives, for a clinician to sign off.

Writes ``reports/review.md``. For each intent (domain.yml order): a few example questions from
data/nlu.yml, the answer the rules give it (data/rules.yml), word for word with its buttons, and
the article passages the answer is drawn from (or why it is not from the article). The answers
of ``action_site_symptoms`` come from running the action itself for each site. Responses that
no intent leads to directly (the care-team line, "which site?", ...) follow, then a sign-off.

It reads the project's files, not the trained model, so it needs no training and no servers.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot import PROJECT_ROOT
from bot.article import load_yaml, source
from bot.staff.sourced import Sourced

# Rasa is imported inside the functions that use it: the import takes seconds, and
# `python -m bot --help` should not wait for it.

DOMAIN = PROJECT_ROOT / "domain.yml"
NLU_DATA = PROJECT_ROOT / "data" / "nlu.yml"
RULES = PROJECT_ROOT / "data" / "rules.yml"
REPORT = PROJECT_ROOT / "reports" / "review.md"
EXAMPLES_PER_INTENT = 5
NLU_FALLBACK = "nlu_fallback"
SITE_ACTION = "action_site_symptoms"
WORRY_ACTION = "action_symptom_worry"
NOT_COVERED_EXAMPLE = "skin"
SIGN_OFF_BOX = "- [ ] Approved  - [ ] Needs a change: ________________________________"


@dataclass(frozen=True)
class Case:
    """One situation a custom action handles, and the messages it sends in it."""

    title: str
    answers: list[Sourced]


class Project:
    """The domain, training examples and rules, read with Rasa's own readers."""

    def __init__(self) -> None:
        from rasa.shared.core.domain import Domain
        from rasa.shared.nlu.training_data.loading import load_data

        self.domain = Domain.load(str(DOMAIN))
        # In domain.yml's order; Domain.intents is sorted and adds Rasa's own intents.
        self.intents = [
            intent if isinstance(intent, str) else next(iter(intent))
            for intent in load_yaml(DOMAIN).get("intents", [])
        ]
        self.examples: dict[str, list[str]] = {}
        for message in load_data(str(NLU_DATA)).intent_examples:
            self.examples.setdefault(str(message.get("intent")), []).append(message.get("text"))
        self.actions_by_intent = actions_by_intent(load_yaml(RULES).get("rules", []))
        self.slot_values = {
            slot.name: slot.initial_value
            for slot in self.domain.slots
            if slot.initial_value is not None
        }

    def response(self, name: str) -> list[Sourced]:
        """Every variation of response ``name``, with slots filled in as at the start."""
        from rasa.core.nlg.interpolator import interpolate_text

        answers = []
        for variation in self.domain.responses.get(name, []):
            text = interpolate_text(variation.get("text", ""), self.slot_values)
            buttons = variation.get("buttons")
            answers.append(Sourced.of(name, text, buttons, variation.get("metadata")))
        return answers

    def answers_from(self, responses: Iterable[dict[str, Any]], action: str) -> list[Sourced]:
        """The messages a custom action sent, with named responses looked up in the domain."""
        answers: list[Sourced] = []
        for message in responses:
            if message.get("response"):
                answers += self.response(message["response"])[:1]
                continue
            text = message.get("text") or ""
            buttons = message.get("buttons")
            answers.append(Sourced.of(action, text, buttons, message.get("metadata")))
        return answers


def actions_by_intent(rules: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
    """The actions that follow each intent in the rules, in order, each once."""
    found: dict[str, list[str]] = {}
    for rule in rules:
        current: list[str] = []
        for step in rule.get("steps", []):
            if "intent" in step:
                current = [step["intent"]]
            elif "or" in step:
                current = [item["intent"] for item in step["or"] if "intent" in item]
            elif "action" in step:
                for intent in current:
                    actions = found.setdefault(intent, [])
                    if step["action"] not in actions:
                        actions.append(step["action"])
    return found


def spread(items: Sequence[str], count: int) -> list[str]:
    """Up to ``count`` items picked evenly from the whole list, to show its variety."""
    if len(items) <= count:
        return list(items)
    last = len(items) - 1
    return [items[round(index * last / (count - 1))] for index in range(count)]


async def action_cases(project: Project) -> dict[str, list[Case]]:
    """The replies of the site-symptoms and symptom-worry actions, from the actions themselves."""
    from bot.article import sites
    from bot.staff.actions import load_executor, run_action

    executor = load_executor()
    domain = project.domain.as_dict()

    async def cases(action: str, intent: str) -> list[Case]:
        async def reply(sites_named: list[str]) -> list[Sourced]:
            message = {
                "text": " and ".join(sites_named),
                "intent": {"name": intent, "confidence": 1.0},
                "entities": [{"entity": "site", "value": site} for site in sites_named],
            }
            sent = await run_action(executor, action, domain, message, None)
            return project.answers_from(sent, action)

        found = [
            Case(f"Asked about {entry['name']}", await reply([site]))
            for site, entry in sites()["sites"].items()
        ]
        found.append(Case("No site named, none asked about before", await reply([])))
        example = f'A place the guide does not cover (e.g. "{NOT_COVERED_EXAMPLE}")'
        found.append(Case(example, await reply([NOT_COVERED_EXAMPLE])))
        return found

    wanted = {SITE_ACTION: "site_symptoms", WORRY_ACTION: "symptom_worry"}
    return {
        action: await cases(action, intent)
        for action, intent in wanted.items()
        if action in project.domain.user_actions
    }


def quoted(text: str) -> list[str]:
    return [f"> {line}" if line else ">" for line in text.splitlines()]


def answer_lines(answer: Sourced) -> list[str]:
    lines = [f"Answer (`{answer.source}`):", "", *quoted(answer.text), ""]
    if answer.buttons:
        titles = " · ".join(f"[{button.get('title')}]" for button in answer.buttons)
        lines += [f"Buttons: {titles}", ""]
    if answer.passages:
        lines += ["Drawn from these article passages:", ""]
        lines += [f'- "{passage}"' for passage in answer.passages]
    elif answer.not_from_article:
        lines.append(f"Not from the article: {answer.not_from_article}")
    else:
        lines.append("**No source recorded for this answer.**")
    return [*lines, ""]


def examples_lines(project: Project, intent: str) -> list[str]:
    examples = project.examples.get(intent, [])
    if not examples:
        return ["No example questions in data/nlu.yml.", ""]
    shown = spread(examples, EXAMPLES_PER_INTENT)
    lines = [f"Example questions ({len(shown)} of {len(examples)} in data/nlu.yml):", ""]
    return [*lines, *(f"- {example}" for example in shown), ""]


def intent_section(
    project: Project, number: int, intent: str, cases: dict[str, list[Case]]
) -> list[str]:
    lines = [f"## {number}. `{intent}`", "", *examples_lines(project, intent)]
    actions = project.actions_by_intent.get(intent) or [f"utter_{intent}"]
    for action in actions:
        if action in cases:
            lines += [f"The answer (`{action}`) depends on the site named:", ""]
            for case in cases[action]:
                lines += [f"### {case.title}", ""]
                for answer in case.answers:
                    lines += answer_lines(answer)
        elif action in project.domain.responses:
            for answer in project.response(action):
                lines += answer_lines(answer)
        else:
            lines += [f"`{action}`: a custom action; check its answers with `make ask`.", ""]
    return [*lines, SIGN_OFF_BOX, ""]


def provenance_line() -> str:
    """When and from which commit the report was made, so a sign-off names what it covers."""
    try:
        commit = git("rev-parse", "--short", "HEAD")
        changed = " plus uncommitted changes" if git("status", "--porcelain") else ""
        version = f"commit {commit}{changed}"
    except (OSError, subprocess.CalledProcessError):
        version = "version unknown (not a git checkout)"
    return (
        f"Made by `make review` on {date.today().isoformat()} from domain.yml, data/nlu.yml, "
        f"data/rules.yml and article/sites.yml ({version})."
    )


def git(*arguments: str) -> str:
    result = subprocess.run(
        ["git", *arguments], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def header_lines() -> list[str]:
    article = source()
    return [
        "# Answers for clinical review",
        "",
        provenance_line(),
        "",
        f'The assistant answers only from "{article.get("title")}" ({article.get("publisher")}; '
        f"author {article.get('author')}; last reviewed {article.get('last_reviewed')}).",
        "",
        "For each kind of question: check that the answer is correct, says no more than the",
        "quoted passages, is in plain words and kind in tone, and that the example questions",
        "should get this answer. Tick Approved, or write what must change.",
        "",
    ]


def sign_off_lines() -> list[str]:
    return [
        "## Sign-off",
        "",
        "I have reviewed every answer in this report against the article.",
        "",
        "Name: ______________________  Role: ______________________",
        "",
        "Signature: ______________________  Date: ______________",
        "",
    ]


def build_report(project: Project, cases: dict[str, list[Case]]) -> str:
    """The review report as Markdown."""
    intents = list(project.intents)
    if NLU_FALLBACK in project.actions_by_intent:
        intents.append(NLU_FALLBACK)
    lines = header_lines()
    shown: set[str] = set()
    for number, intent in enumerate(intents, start=1):
        lines += intent_section(project, number, intent, cases)
        shown.update(project.actions_by_intent.get(intent) or [f"utter_{intent}"])
    for listed in cases.values():
        shown.update(answer.source for case in listed for answer in case.answers)
    others = [name for name in project.domain.responses if name not in shown]
    if others:
        lines += ["## Other answers", "", "Answers that no question leads to directly.", ""]
        for name in others:
            lines += [f"### `{name}`", ""]
            for answer in project.response(name):
                lines += answer_lines(answer)
            lines += [SIGN_OFF_BOX, ""]
    return "\n".join([*lines, *sign_off_lines()])


def write_report(path: Path = REPORT) -> Path:
    """Write the review report to ``path`` and return it."""
    project = Project()
    cases = asyncio.run(action_cases(project))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(build_report(project, cases), encoding="utf-8")
    return path


def run(arguments: argparse.Namespace) -> int:
    from bot.staff.ask import quiet_rasa

    quiet_rasa(verbose=False)
    path = write_report(arguments.out)
    print(f"Wrote {path}: every answer, for a clinician to review and sign off.")
    return 0


COMMAND = "review"
HELP = "write reports/review.md: every answer, for a clinician to sign off"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``review`` command's options."""
    parser.add_argument("--out", type=Path, default=REPORT, help="where to write the report")

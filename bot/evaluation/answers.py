"""Is a reply the right answer? Judged by what the bot said, not by the intent it predicted.

The expected answer for a held-out message labelled ``intent`` is, in the first message of the
reply:

- ``utter_<intent>`` from ``domain.yml`` (any of its variations, with any slot values);
- for ``out_of_scope``: ``utter_out_of_scope`` or ``utter_default`` (both decline honestly);
- for ``emergency``: any text that contains the emergency number (the slot's initial value);
- for ``site_symptoms``: the site-symptoms action's reply, naming each site the message names
  (by the site words of ``article/sites.yml``) and no other; ``utter_site_not_covered`` for a
  place the article does not cover; ``utter_ask_site`` when the message names no site.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from bot import PROJECT_ROOT
from bot.article import sites

DOMAIN_PATH = PROJECT_ROOT / "domain.yml"
NOT_COVERED = "not_covered"
SLOT = re.compile(r"\\\{(\w+)\\\}")

Reply = Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class Verdict:
    """Whether a reply was the right answer, and which response the reply was."""

    right: bool
    answer: str


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


def contains_phrase(tokens: Sequence[str], phrase: str) -> bool:
    """True if the words of ``phrase`` occur in ``tokens`` one after another."""
    wanted = words_of(phrase)
    width = len(wanted)
    return any(list(tokens[start : start + width]) == wanted for start in range(len(tokens)))


def response_pattern(template: str) -> re.Pattern[str]:
    """A pattern that matches a response text with any value in its ``{slot}`` places."""
    return re.compile(SLOT.sub(r".+?", re.escape(squeeze(template))))


def first_text(reply: Reply) -> str:
    return squeeze(str(reply[0].get("text") or "")) if reply else ""


class Judge:
    """Judges replies against the responses of a domain and the sites of the article."""

    def __init__(self, domain_path: Path = DOMAIN_PATH) -> None:
        with domain_path.open(encoding="utf-8") as handle:
            self.domain: dict[str, Any] = yaml.safe_load(handle)

    @cached_property
    def responses(self) -> dict[str, list[re.Pattern[str]]]:
        """Each response's name and a pattern for each of its variations' text."""
        return {
            name: [response_pattern(str(v["text"])) for v in variations if v.get("text")]
            for name, variations in (self.domain.get("responses") or {}).items()
        }

    @cached_property
    def emergency_number(self) -> str:
        slot = (self.domain.get("slots") or {}).get("emergency_number") or {}
        return str(slot.get("initial_value") or "911")

    def response_name(self, text: str) -> str:
        """The domain response ``text`` is, or ``"other"`` (e.g. a custom action's text)."""
        for name, patterns in self.responses.items():
            if any(pattern.fullmatch(text) for pattern in patterns):
                return name
        return "other" if text else "(no reply)"

    def judge(self, intent: str, message: str, reply: Reply) -> Verdict:
        """Whether ``reply`` is the right answer to ``message``, labelled ``intent``."""
        text = first_text(reply)
        answer = self.response_name(text)
        if intent == "emergency":
            return Verdict(self.emergency_number in text, answer)
        if intent == "site_symptoms":
            return Verdict(self.is_right_site_answer(message, reply, answer), answer)
        if intent == "out_of_scope":
            return Verdict(answer in ("utter_out_of_scope", "utter_default"), answer)
        return Verdict(answer == f"utter_{intent}", answer)

    def is_right_site_answer(self, message: str, reply: Reply, answer: str) -> bool:
        asked = sites_named(message)
        covered = asked - {NOT_COVERED}
        if not asked:
            return answer == "utter_ask_site"
        if not covered:
            return answer == "utter_site_not_covered"
        if answer != "other":
            return False
        # Only the action's own text: the care-team suggestion and utter_site_not_covered
        # (for a place the article does not cover, named in the same message) name no site.
        texts = [squeeze(str(part.get("text") or "")) for part in reply]
        said = " ".join(text for text in texts if self.response_name(text) == "other")
        return sites_named_by_name(said) == covered


def site_words() -> dict[str, list[str]]:
    """The words that mean each site, and those of places the article does not cover."""
    data = sites()
    words = {site: list(entry["words"]) for site, entry in data["sites"].items()}
    words[NOT_COVERED] = list(data["not_covered"]["words"])
    return words


def sites_named(message: str) -> set[str]:
    """The sites (and ``not_covered``) a user's message names, by the words in sites.yml."""
    tokens = words_of(message)
    return {site for site, words in site_words().items() if any_phrase(tokens, words)}


def any_phrase(tokens: Sequence[str], phrases: Iterable[str]) -> bool:
    return any(contains_phrase(tokens, phrase) for phrase in phrases)


def sites_named_by_name(text: str) -> set[str]:
    """The sites a bot reply names by their ``name`` in sites.yml ("the lungs", "the liver")."""
    tokens = words_of(text)
    return {
        site for site, entry in sites()["sites"].items() if contains_phrase(tokens, entry["name"])
    }

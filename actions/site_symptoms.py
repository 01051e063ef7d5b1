"""``action_site_symptoms``: the symptoms the article gives for the sites a user asks about.

Everything the reply says comes from article/sites.yml: the words that name each site, its
symptoms and the sentence templates. Staff change the wording there, not here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.care_team import CareTeamAction
from bot.article import sites

SITE = "site"  # both the entity and the slot
NOT_COVERED = "not_covered"
ASK_SITE_RESPONSE = "utter_ask_site"
NOT_COVERED_RESPONSE = "utter_site_not_covered"


@dataclass(frozen=True)
class Site:
    """A site the article names, with the symptoms that belong to it."""

    id: str
    name: str
    passage: str
    symptoms: tuple[str, ...]
    symptom_passages: tuple[str, ...]


@dataclass(frozen=True)
class Reply:
    """A reply's text and the verbatim article passages it is drawn from."""

    text: str
    passages: list[str]


@cache
def covered_sites() -> dict[str, Site]:
    """The sites of article/sites.yml, by canonical id (lung, liver, bones, brain)."""
    return {
        site_id: Site(
            id=site_id,
            name=entry["name"],
            passage=entry["passage"],
            symptoms=tuple(item["symptom"] for item in entry["symptoms"]),
            symptom_passages=tuple(item["passage"] for item in entry["symptoms"]),
        )
        for site_id, entry in sites()["sites"].items()
    }


def normalise(value: str) -> str:
    """Lower case, single spaces and no possessive: " Lung's " -> "lung"."""
    text = re.sub(r"\s+", " ", value).strip().lower()
    return re.sub(r"['’]s$", "", text)


@cache
def site_ids_by_word() -> dict[str, str]:
    """Every word of article/sites.yml, normalised, mapped to its canonical site id.

    Canonical ids map to themselves, so button payloads (``{"site": "liver"}``) work too.
    Words for places the article does not cover map to ``not_covered``.
    """
    data = sites()
    by_word = {normalise(word): NOT_COVERED for word in data["not_covered"]["words"]}
    by_word[NOT_COVERED] = NOT_COVERED
    for site_id, entry in data["sites"].items():
        for word in [site_id, *entry["words"]]:
            by_word[normalise(word)] = site_id
    return by_word


def canonical_site(value: Any) -> str:
    """The canonical id for an entity or slot value; ``not_covered`` if it is unknown."""
    if not isinstance(value, str):
        return NOT_COVERED
    return site_ids_by_word().get(normalise(value), NOT_COVERED)


def sites_in_message(tracker: Tracker) -> list[str]:
    """The canonical ids of the sites the latest message names, in order, each once."""
    return unique(canonical_site(value) for value in tracker.get_latest_entity_values(SITE))


def remembered_site(tracker: Tracker) -> str | None:
    """The covered site of an earlier turn (the ``site`` slot), if there is one."""
    value = tracker.get_slot(SITE)
    site_id = canonical_site(value)
    return site_id if site_id in covered_sites() else None


def unique(items: Iterable[str]) -> list[str]:
    """``items`` in order, without repeats."""
    return list(dict.fromkeys(items))


def join_words(words: Sequence[str]) -> str:
    """Words as a phrase: "a", "a and b", "a, b and c"."""
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def sentence(text: str) -> str:
    """``text`` with a capital first letter, as a template may start with a site's name."""
    return text[:1].upper() + text[1:]


def symptoms_reply(site_ids: Sequence[str]) -> Reply:
    """The reply for one or more covered sites, from the templates in article/sites.yml."""
    templates = sites()["reply"]
    chosen = [covered_sites()[site_id] for site_id in site_ids]
    opening = [
        templates["common"]["text"].format(sites=join_words([site.name for site in chosen])),
        templates["depends"]["text"],
    ]
    per_site = [
        templates["per_site"]["text"].format(site=site.name, symptoms=join_words(site.symptoms))
        for site in chosen
    ]
    lines = [" ".join(sentence(text) for text in opening), *map(sentence, per_site)]
    passages = [
        templates["common"]["passage"],
        *(site.passage for site in chosen),
        templates["depends"]["passage"],
        templates["per_site"]["passage"],
        *(passage for site in chosen for passage in site.symptom_passages),
    ]
    return Reply(text="\n".join(lines), passages=unique(passages))


def asked_sites(tracker: Tracker) -> list[str]:
    """The sites the latest message names or, if it names none, the one asked about before.

    Empty when neither the message nor the conversation so far names a covered site.
    """
    named = sites_in_message(tracker)
    if named:
        return named
    remembered = remembered_site(tracker)
    return [remembered] if remembered else []


def send_site_symptoms(
    dispatcher: CollectingDispatcher, site_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """Send the symptoms of each covered site, and say so if a place is not covered.

    RETURNS: The ``site`` slot event: the last covered site, for follow-up questions.
    """
    covered = [site_id for site_id in site_ids if site_id in covered_sites()]
    if covered:
        reply = symptoms_reply(covered)
        dispatcher.utter_message(text=reply.text, metadata={"passages": reply.passages})
    if len(covered) < len(site_ids):
        dispatcher.utter_message(response=NOT_COVERED_RESPONSE)
    return [SlotSet(SITE, covered[-1] if covered else None)]


class ActionSiteSymptoms(CareTeamAction):
    """Give the symptoms for the sites the user names, or for the one asked about before.

    - Sites named in the message: the symptoms for each covered one, and
      ``utter_site_not_covered`` for any place the article does not cover.
    - No site named: the site of the previous question (the ``site`` slot), if any;
      otherwise ``utter_ask_site`` asks which one.

    The ``site`` slot keeps the last covered site, for follow-up questions.
    """

    def name(self) -> str:
        return "action_site_symptoms"

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        site_ids = asked_sites(tracker)
        if not site_ids:
            dispatcher.utter_message(response=ASK_SITE_RESPONSE)
            return []
        return send_site_symptoms(dispatcher, site_ids)

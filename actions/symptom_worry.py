"""``action_symptom_worry``: "could my symptom mean it has spread to X?", without a diagnosis.

The reply, in order: only the care team can tell whether it has spread; what the article says
about the site asked about (the same sentences as ``action_site_symptoms``, from
article/sites.yml), or the article's general symptoms passage when no site is named; advice to
tell the care team soon about new or lasting symptoms. ``CareTeamAction`` adds the care-team
suggestion last.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.care_team import CareTeamAction
from actions.site_symptoms import asked_sites, send_site_symptoms

ONLY_CARE_TEAM_CAN_TELL_RESPONSE = "utter_only_care_team_can_tell"
GENERAL_SYMPTOMS_RESPONSE = "utter_symptoms_in_general"
TELL_CARE_TEAM_SOON_RESPONSE = "utter_tell_care_team_soon"


class ActionSymptomWorry(CareTeamAction):
    """Answer a worry that a symptom means spread: never a diagnosis, always the care team.

    The site comes from the message's ``site`` entities or, failing those, the ``site`` slot,
    as for ``action_site_symptoms``; the ``site`` slot keeps the last covered site.
    """

    def name(self) -> str:
        return "action_symptom_worry"

    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response=ONLY_CARE_TEAM_CAN_TELL_RESPONSE)
        site_ids = asked_sites(tracker)
        events: list[dict[str, Any]] = []
        if site_ids:
            events = send_site_symptoms(dispatcher, site_ids)
        else:
            dispatcher.utter_message(response=GENERAL_SYMPTOMS_RESPONSE)
        dispatcher.utter_message(response=TELL_CARE_TEAM_SOON_RESPONSE)
        return events

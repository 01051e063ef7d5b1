"""The one place that appends the care-team suggestion to a custom action's reply."""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from typing import Any, final

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

CARE_TEAM_RESPONSE = "utter_care_team"


class CareTeamAction(Action, metaclass=ABCMeta):
    """A custom action whose reply always ends with the care-team suggestion.

    Subclasses implement ``name()`` and ``respond()``. ``run()`` is final: it sends the
    action's own reply, then ``utter_care_team``, so no action can forget the suggestion.
    The action server skips this class because it is abstract.
    """

    @abstractmethod
    def name(self) -> str:
        """The action's name, as listed in domain.yml."""

    @abstractmethod
    async def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Send the action's own reply and return its events.

        dispatcher: Collects the messages to send.
        tracker: The conversation so far.
        domain: The bot's domain.
        RETURNS: The events to apply to the conversation.
        """

    @final
    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Send the action's reply followed by the care-team suggestion."""
        events = await self.respond(dispatcher, tracker, domain)
        dispatcher.utter_message(response=CARE_TEAM_RESPONSE)
        return events

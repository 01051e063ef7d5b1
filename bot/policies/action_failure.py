"""A policy that answers when a custom action could not run (e.g. the action server is down).

When Rasa cannot reach the action server, its processor logs the exception, records the
``ActionExecuted`` event of the custom action without any of the action's events, and asks
the policies for the next action. Without this policy the user would get no reply at all.

Every custom action in ``actions/`` ends its reply with the care-team suggestion, so a custom
action that ran always leaves a ``BotUttered`` event after its ``ActionExecuted``; one that
failed leaves none. In that case this policy predicts ``utter_action_unavailable``, and after
it ``action_listen``. Its priority is above RulePolicy's, whose rules would otherwise predict
``action_listen`` straight after the failed action.

Trackers built from story files (``rasa test``, training) never contain ``BotUttered``
events, so there the missing reply means nothing: the policy abstains on trackers that have a
``sender_source`` (the story file), which a live conversation never has.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.constants import POLICY_PRIORITY, RULE_POLICY_PRIORITY
from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME, DEFAULT_ACTION_NAMES
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

UNAVAILABLE_RESPONSE = "unavailable_response"
CUSTOM_ACTION_PREFIX = "action_"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class ActionFailurePolicy(Policy):
    """Predict ``utter_action_unavailable`` after a custom action that sent no reply.

    Config:
        priority: Above RulePolicy's by default, so this policy wins ties at confidence 1.
        unavailable_response: The response that tells the user (``utter_action_unavailable``).
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The default config (see parent class for full docstring)."""
        return {
            POLICY_PRIORITY: RULE_POLICY_PRIORITY + 1,
            UNAVAILABLE_RESPONSE: "utter_action_unavailable",
        }

    def train(
        self,
        training_trackers: list[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        """Nothing to learn; persists an empty resource so the model can load the policy."""
        with self._model_storage.write_to(self._resource):
            pass
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """Predict the next action if the last custom action failed (see module docstring)."""
        action_name = self._next_action(tracker, domain)
        probabilities = self._default_predictions(domain)
        if action_name is not None:
            logger.debug(f"{self.__class__.__name__} predicts '{action_name}'.")
            probabilities[domain.index_for_action(action_name)] = 1.0
        return self._prediction(probabilities)

    def _next_action(self, tracker: DialogueStateTracker, domain: Domain) -> str | None:
        unavailable: str = self.config[UNAVAILABLE_RESPONSE]
        if tracker.latest_action_name == unavailable:
            return ACTION_LISTEN_NAME
        if tracker.sender_source:
            return None
        failed_action = action_without_reply(tracker)
        if failed_action is None or not is_custom_action(failed_action, domain):
            return None
        if unavailable not in domain.action_names_or_texts:
            logger.error(
                f"Custom action '{failed_action}' sent no reply, and the domain has no "
                f"'{unavailable}' response to say so."
            )
            return None
        logger.warning(
            f"Custom action '{failed_action}' sent no reply, so it most likely failed "
            f"(is the action server running?). Predicting '{unavailable}'."
        )
        return unavailable


def action_without_reply(tracker: DialogueStateTracker) -> str | None:
    """The name of the latest action if no bot message followed it, else None."""
    for event in reversed(tracker.events):
        if isinstance(event, (BotUttered, UserUttered)):
            return None
        if isinstance(event, ActionExecuted):
            return event.action_name
    return None


def is_custom_action(action_name: str, domain: Domain) -> bool:
    """True for an action the action server runs (``action_...`` in the domain's actions)."""
    return (
        action_name.startswith(CUSTOM_ACTION_PREFIX)
        and action_name in domain.user_actions
        and action_name not in DEFAULT_ACTION_NAMES
    )

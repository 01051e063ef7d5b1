"""ActionFailurePolicy: a reply when a custom action could not run (action server down).

The trackers are real ``DialogueStateTracker`` objects built from the events Rasa's processor
records; the domain is the project's domain.yml. The ensemble tests pit the policy against a
real RulePolicy trained on data/rules.yml with the settings of config.yml.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.constants import RULE_POLICY_PRIORITY
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    DefinePrevUserUtteredFeaturization,
    Event,
    SessionStarted,
    SlotSet,
    deserialise_events,
)
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data.loading import load_data_from_files
from rasa.shared.core.training_data.structures import StoryGraph
from rasa.shared.data import TrainingType
from rasa.utils.endpoints import EndpointConfig
from rasa_sdk.executor import ActionExecutor

from bot import paths
from bot.policies.action_failure import ActionFailurePolicy
from tests.helpers import uttered

ACTION = "action_site_symptoms"
UNAVAILABLE = "utter_action_unavailable"
LIVER = {
    "text": "what about my liver?",
    "intent": {"name": "site_symptoms", "confidence": 0.97},
    "entities": [{"entity": "site", "value": "liver", "start": 14, "end": 19}],
}
GREET = {"text": "hello", "intent": {"name": "greet", "confidence": 0.99}, "entities": []}


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(paths.DOMAIN)


def execution_context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test-model")


@pytest.fixture
def policy(tmp_path: Path, domain: Domain) -> ActionFailurePolicy:
    """The policy as Rasa builds it: created, trained, then loaded from the model storage."""
    storage = LocalModelStorage(tmp_path)
    resource = Resource("action_failure")
    config = ActionFailurePolicy.get_default_config()
    trained = ActionFailurePolicy.create(config, storage, resource, execution_context())
    trained.train([], domain)
    loaded = ActionFailurePolicy.load(config, storage, resource, execution_context())
    assert isinstance(loaded, ActionFailurePolicy)
    return loaded


@pytest.fixture(scope="module")
def rule_policy(tmp_path_factory: pytest.TempPathFactory, domain: Domain) -> RulePolicy:
    """RulePolicy with config.yml's settings, trained on data/rules.yml."""
    config_yml = yaml.safe_load(paths.CONFIG.read_text(encoding="utf-8"))
    settings = next(p for p in config_yml["policies"] if p["name"] == "RulePolicy")
    config = {**RulePolicy.get_default_config(), **settings}
    storage = LocalModelStorage(tmp_path_factory.mktemp("rule_policy"))
    policy = RulePolicy.create(config, storage, Resource("rules"), execution_context())
    steps = load_data_from_files([str(paths.RULES)], domain)
    trackers = TrainingDataGenerator(StoryGraph(steps), domain, augmentation_factor=0).generate()
    policy.train(trackers, domain)
    return policy


def conversation(*turns: list[Event]) -> list[Event]:
    """A live conversation's events: the session start, then ``turns``."""
    start: list[Event] = [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
    ]
    return start + [event for turn in turns for event in turn]


def user_says(parse_data: dict[str, Any]) -> list[Event]:
    """A user message as the processor records it, up to the bot's next action."""
    return [uttered(parse_data, message_id="0f3c"), DefinePrevUserUtteredFeaturization(False)]


def action(name: str, *events: Event) -> list[Event]:
    """An action as the processor logs it: ``ActionExecuted``, then the action's events."""
    return [ActionExecuted(name, policy="RulePolicy", confidence=1.0), *events]


def bot_says(text: str) -> BotUttered:
    return BotUttered(text, metadata={"utter_action": "utter_care_team"})


def live(domain: Domain, events: list[Event]) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("patient", events, domain.slots)


def predicted(prediction: PolicyPrediction, domain: Domain) -> str | None:
    """The action a prediction picks, or None if it predicts nothing."""
    if prediction.max_confidence <= 0:
        return None
    return domain.action_names_or_texts[prediction.max_confidence_index]


def failed_site_symptoms() -> list[Event]:
    """The action server is down: Rasa logs the action but none of its events."""
    return conversation(user_says(LIVER), action(ACTION))


def after_unavailable() -> list[Event]:
    return failed_site_symptoms() + action(UNAVAILABLE, bot_says("I can't look up ..."))


# --- the policy on its own ----------------------------------------------------------------


def test_a_failed_custom_action_gets_utter_action_unavailable(
    policy: ActionFailurePolicy, domain: Domain
) -> None:
    prediction = policy.predict_action_probabilities(live(domain, failed_site_symptoms()), domain)

    assert predicted(prediction, domain) == UNAVAILABLE
    assert prediction.max_confidence == 1.0
    assert prediction.policy_name == "ActionFailurePolicy"
    assert prediction.policy_priority > RULE_POLICY_PRIORITY


def test_after_utter_action_unavailable_the_bot_listens(
    policy: ActionFailurePolicy, domain: Domain
) -> None:
    prediction = policy.predict_action_probabilities(live(domain, after_unavailable()), domain)

    assert predicted(prediction, domain) == "action_listen"


def test_a_failed_action_on_a_later_turn_is_caught_too(
    policy: ActionFailurePolicy, domain: Domain
) -> None:
    events = conversation(
        user_says(GREET),
        action("utter_greet", bot_says("Hello!")),
        action("action_listen"),
        user_says(LIVER),
        action(ACTION),
    )

    prediction = policy.predict_action_probabilities(live(domain, events), domain)

    assert predicted(prediction, domain) == UNAVAILABLE


@pytest.mark.parametrize(
    "events",
    [
        pytest.param(
            conversation(
                user_says(LIVER),
                action(ACTION, bot_says("The liver ..."), bot_says("Please talk ...")),
                [SlotSet("site", "liver")],
            ),
            id="custom action replied",
        ),
        pytest.param(conversation(), id="session start"),
        pytest.param(conversation(user_says(LIVER)), id="user just spoke"),
        pytest.param(conversation(user_says(GREET), action("utter_greet")), id="response action"),
        pytest.param(
            conversation(user_says(GREET), action("action_default_fallback")),
            id="default action",
        ),
        pytest.param(
            conversation(user_says(GREET), action("action_unknown_to_the_domain")),
            id="not in the domain",
        ),
    ],
)
def test_otherwise_the_policy_predicts_nothing(
    policy: ActionFailurePolicy, domain: Domain, events: list[Event]
) -> None:
    prediction = policy.predict_action_probabilities(live(domain, events), domain)

    assert predicted(prediction, domain) is None


def test_without_the_response_in_the_domain_it_predicts_nothing(
    policy: ActionFailurePolicy,
) -> None:
    domain = Domain.from_dict({"actions": [ACTION], "intents": ["site_symptoms"]})

    prediction = policy.predict_action_probabilities(live(domain, failed_site_symptoms()), domain)

    assert predicted(prediction, domain) is None


def test_a_successful_run_of_the_real_action_leaves_a_bot_message(
    policy: ActionFailurePolicy, domain: Domain
) -> None:
    """The contract the policy relies on, checked on the real action and Rasa's own code."""
    executor = ActionExecutor()
    executor.register_package("actions")
    events = conversation(user_says(LIVER))
    tracker = live(domain, events)
    remote = RemoteAction(ACTION, EndpointConfig("http://unused"))
    response = asyncio.run(executor.run(remote._action_call_format(tracker, domain)))  # type: ignore[arg-type]
    assert response is not None
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    messages = asyncio.run(
        RemoteAction._utter_responses(
            response["responses"], CollectingOutputChannel(), nlg, tracker
        )
    )
    ran = events + action(ACTION, *messages, *deserialise_events(response["events"]))

    prediction = policy.predict_action_probabilities(live(domain, ran), domain)

    assert [message.metadata.get("utter_action") for message in messages][-1] == ("utter_care_team")
    assert predicted(prediction, domain) is None


# --- against RulePolicy, as the ensemble picks ---------------------------------------------


def winner(
    policies: list[Policy], tracker: DialogueStateTracker, domain: Domain
) -> PolicyPrediction:
    predictions = [
        policy.predict_action_probabilities(
            tracker,
            domain,
            rule_only_data=policy._get_rule_only_data() if isinstance(policy, RulePolicy) else {},
        )
        for policy in policies
    ]
    return DefaultPolicyPredictionEnsemble().combine_predictions(predictions, tracker, domain)


def test_the_rules_alone_leave_a_failed_action_unanswered(
    rule_policy: RulePolicy, domain: Domain
) -> None:
    """Why the policy is needed: RulePolicy listens right after the failed action."""
    best = winner([rule_policy], live(domain, failed_site_symptoms()), domain)

    assert predicted(best, domain) == "action_listen"


def test_the_policy_wins_over_the_rules_after_a_failed_action(
    rule_policy: RulePolicy, policy: ActionFailurePolicy, domain: Domain
) -> None:
    best = winner([rule_policy, policy], live(domain, failed_site_symptoms()), domain)

    assert predicted(best, domain) == UNAVAILABLE
    assert best.policy_name == "ActionFailurePolicy"


def test_the_policy_makes_the_bot_listen_after_saying_so(
    rule_policy: RulePolicy, policy: ActionFailurePolicy, domain: Domain
) -> None:
    tracker = live(domain, after_unavailable())
    rules_only = winner([rule_policy], tracker, domain)

    best = winner([rule_policy, policy], tracker, domain)

    assert predicted(rules_only, domain) != "action_listen"
    assert predicted(best, domain) == "action_listen"


def test_the_rules_still_decide_when_the_action_replied(
    rule_policy: RulePolicy, policy: ActionFailurePolicy, domain: Domain
) -> None:
    events = conversation(user_says(LIVER), action(ACTION, bot_says("The liver ...")))

    best = winner([rule_policy, policy], live(domain, events), domain)

    assert predicted(best, domain) == "action_listen"
    assert best.policy_name == "RulePolicy"


def test_test_stories_are_left_to_the_other_policies(
    tmp_path: Path, rule_policy: RulePolicy, policy: ActionFailurePolicy, domain: Domain
) -> None:
    """``rasa test`` replays story files, which hold no bot messages, with their file name."""
    stories = tmp_path / "test_stories.yml"
    stories.write_text(
        'version: "3.1"\n'
        "stories:\n"
        "  - story: liver\n"
        "    steps:\n"
        "      - user: what about my liver?\n"
        "        intent: site_symptoms\n"
        "      - action: action_site_symptoms\n",
        encoding="utf-8",
    )
    graph = StoryGraph(load_data_from_files([str(stories)], domain))
    generator = TrainingDataGenerator(graph, domain, augmentation_factor=0, remove_duplicates=False)
    story = generator.generate_story_trackers()[0]
    events = list(story.events)
    replayed = events[: events.index(ActionExecuted(ACTION)) + 1]
    # Like rasa.core.test, which predicts each action of the story from the events before it,
    # replayed on a tracker that keeps the story's sender_source.
    tracker = DialogueStateTracker.from_events(
        story.sender_id, replayed, domain.slots, sender_source=story.sender_source
    )
    assert story.sender_source == str(stories)
    assert tracker.latest_action_name == ACTION

    best = winner([rule_policy, policy], tracker, domain)

    assert predicted(best, domain) == "action_listen"
    assert best.policy_name == "RulePolicy"


# --- configuration ---------------------------------------------------------------------------


def test_config_yml_uses_the_policy_and_rasa_can_build_its_graph() -> None:
    config = yaml.safe_load(paths.CONFIG.read_text(encoding="utf-8"))
    names = [p["name"] for p in config["policies"]]
    assert "bot.policies.action_failure.ActionFailurePolicy" in names

    graphs = DefaultV1Recipe().graph_config_for_recipe(config, {}, TrainingType.CORE)

    uses = {node.uses for node in graphs.predict_schema.nodes.values()}
    assert ActionFailurePolicy in uses

"""The project's custom actions, run in this process instead of on the action server.

rasa-sdk's ``ActionExecutor`` is what the action server runs; here it is called directly.
:class:`InProcessActionEndpoint` stands in for the action server's address, so Rasa's own
``RemoteAction`` still builds the request and reads the reply: only the HTTP hop is gone.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from rasa.utils.endpoints import EndpointConfig
from rasa_sdk.executor import ActionExecutor

from bot import PROJECT_ROOT

ACTIONS_PACKAGE = "actions"


def load_executor(package: str = ACTIONS_PACKAGE) -> ActionExecutor:
    """An executor with every action of ``package`` registered, as the action server has."""
    executor = ActionExecutor()
    executor.register_package(package)
    return executor


def action_source(executor: ActionExecutor, name: str) -> tuple[Path, str] | None:
    """The file that defines custom action ``name`` and the first line of its docstring."""
    run = executor.actions.get(name)
    action = getattr(run, "__self__", None)
    if action is None:
        return None
    path = Path(inspect.getfile(type(action))).resolve()
    summary = (inspect.getdoc(type(action)) or "").split("\n", 1)[0]
    return (path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path), summary


class InProcessActionEndpoint(EndpointConfig):
    """An action endpoint that runs the actions in this process; it records what failed."""

    def __init__(self, executor: ActionExecutor) -> None:
        super().__init__(url="in-process://actions")
        self.executor = executor
        self.failures: dict[str, str] = {}

    async def request(
        self,
        method: str = "post",
        subpath: str | None = None,
        content_type: str | None = "application/json",
        compress: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Run the action named in the request body (``json``) and return the reply body."""
        action_call: dict[str, Any] = kwargs["json"]
        try:
            return await self.executor.run(action_call)
        except Exception as error:
            name = str(action_call.get("next_action"))
            self.failures[name] = f"{type(error).__name__}: {error}"
            raise


async def run_action(
    executor: ActionExecutor,
    name: str,
    domain: dict[str, Any],
    latest_message: dict[str, Any],
    slots: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The messages custom action ``name`` sends for one user message, as rasa-sdk returns them.

    latest_message: The user message as Rasa's tracker holds it (text, intent, entities).
    slots: The slots before the action runs.
    """
    tracker = {
        "sender_id": "staff-tools",
        "slots": slots or {},
        "latest_message": latest_message,
        "events": [],
        "latest_action_name": "action_listen",
    }
    result = await executor.run({"next_action": name, "tracker": tracker, "domain": domain})
    responses: list[dict[str, Any]] = (result or {}).get("responses", [])
    return responses

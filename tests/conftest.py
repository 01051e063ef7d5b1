"""Shared fixtures: the real servers on free loopback ports (helpers: tests/helpers.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, sync_playwright
from rasa.utils.endpoints import EndpointConfig

from bot import paths
from bot.serve import Servers
from bot.serving.lock_store import AtomicRedisLockStore
from bot.serving.stores import redis_dir, redis_server
from bot.settings import LOOPBACK, Settings
from tests.helpers import Reply, send

Chat = Callable[[str, str], Reply]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
]
StartServers = Callable[..., Servers]


def require_model() -> None:
    if not paths.MODEL.exists():
        pytest.fail(f"No trained model at {paths.MODEL}: run `make train` (make test does).")


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The action, Rasa and widget servers, shared by every end-to-end test of a run."""
    require_model()
    started = Servers(Settings.on_loopback(tmp_path_factory.mktemp("servers")))
    started.start()
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def redis_lock_store(tmp_path: Path) -> Iterator[AtomicRedisLockStore]:
    """The lock store of ``make run`` on a private Redis of its own."""
    settings = Settings.on_loopback(tmp_path)
    redis_dir(settings).mkdir(parents=True)
    redis = redis_server(settings)
    redis.start(settings)
    try:
        Servers(settings).wait_until_ready(redis, timeout_s=30)
        yield AtomicRedisLockStore(EndpointConfig(url=LOOPBACK, port=settings.redis_port))
    finally:
        redis.stop()


@pytest.fixture(scope="module")
def start_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartServers]:
    """``start_servers(**overrides)``: servers of this module's own, with changed settings.

    Each gets its own state folder and free ports; all are stopped after the module.
    """
    require_model()
    started: list[Servers] = []

    def start(**overrides: Any) -> Servers:
        settings = Settings.on_loopback(tmp_path_factory.mktemp("own-servers"), **overrides)
        own = Servers(settings)
        own.start()
        started.append(own)
        return own

    yield start
    for own in reversed(started):
        own.stop()


@pytest.fixture
def chat(servers: Servers) -> Chat:
    """``chat(sender, message)``: the bot's messages for one user message."""
    return lambda sender, message: send(servers, sender, message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (the widget's and console's tests)."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()

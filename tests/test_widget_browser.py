"""The chat widget in a real browser (headless Chromium), on the demo page, against the real
Rasa and action servers: keyboard only, buttons, a reload, markup shown as text, the "Was this
helpful?" question (never after emergency guidance), and axe-core's accessibility check.

A rating "No" followed into the staff console's Review: tests/test_console_browser.py."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Locator, Page, Route, expect

from bot import PROJECT_ROOT
from bot.article import sites
from bot.serve import Servers
from bot.settings import Settings
from bot.web.server import WEB_DIR, render_demo_page, safety_notice
from tests.axe import serious_violations

SCREENSHOT = PROJECT_ROOT / "test-output" / "widget.png"
REPLY_TIMEOUT_MS = 30_000
NOTICE = "Not medical advice. In an emergency call 911."  # the domain's safety line, filled in
MARKUP = "<img src=x onerror=alert(1)>"
WIDGET_BUDGET_KB = 20
COMMENT_LABEL = "Would you like to tell us what was missing? (optional)"


@pytest.fixture
def dialogs() -> list[str]:
    """The messages of every alert/confirm/prompt the page opened."""
    return []


@pytest.fixture
def page(browser: Browser, servers: Servers, dialogs: list[str]) -> Iterator[Page]:
    """The demo page in a fresh browser profile (empty storage)."""
    context = browser.new_context()
    opened = context.new_page()
    opened.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    opened.goto(f"{servers.settings.web_url}/")
    yield opened
    context.close()


@pytest.fixture
def axe_page(browser: Browser, servers: Servers) -> Iterator[Page]:
    """The demo page in a context that lets axe-core's script in past the page's CSP."""
    context = browser.new_context(bypass_csp=True)
    opened = context.new_page()
    opened.goto(f"{servers.settings.web_url}/")
    yield opened
    context.close()


def feedback_question(page: Page) -> Locator:
    return page.get_by_role("group", name="Was this helpful?")


def focused_text(page: Page) -> str:
    text: str = page.evaluate("document.activeElement.textContent")
    return text


def press_until_focused(page: Page, key: str, wanted: str, limit: int = 12) -> None:
    """Press ``key`` until the focused element's text is ``wanted``, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press(key)
        if focused_text(page) == wanted:
            return
    raise AssertionError(f"{wanted!r} cannot be reached with {key}")


def has_visible_focus(page: Page) -> bool:
    style: str = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    return style not in ("", "none")


def transcript(page: Page) -> list[str]:
    return page.locator(".mbc-chat-log .mbc-chat-text").all_inner_texts()


def bot_messages(page: Page) -> Locator:
    return page.locator(".mbc-chat-bot .mbc-chat-text")


def wait_for_reply(page: Page, messages_before: int) -> str:
    """The text of the bot's first new message once it is shown."""
    expect(bot_messages(page)).not_to_have_count(messages_before, timeout=REPLY_TIMEOUT_MS)
    expect(page.locator(".mbc-chat-status")).to_have_text("", timeout=REPLY_TIMEOUT_MS)
    return bot_messages(page).nth(messages_before).inner_text()


def ask(page: Page, question: str) -> str:
    """Type ``question``, press Enter, return the first message of the reply."""
    before = bot_messages(page).count()
    page.keyboard.type(question)
    page.keyboard.press("Enter")
    return wait_for_reply(page, before)


def open_by_keyboard(page: Page) -> None:
    press_until_focused(page, "Tab", "Ask about metastatic breast cancer")
    assert has_visible_focus(page)
    page.keyboard.press("Enter")
    expect(page.get_by_role("region", name="Ask about metastatic breast cancer")).to_be_visible()
    expect(page.get_by_label("Your question")).to_be_focused()


def save_screenshot(page: Page, capsys: pytest.CaptureFixture[str]) -> None:
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    with capsys.disabled():
        print(f"\nwidget screenshot: {SCREENSHOT}")


@pytest.mark.e2e
@pytest.mark.browser
def test_keyboard_conversation_with_buttons_survives_a_reload(
    page: Page, dialogs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    open_by_keyboard(page)
    expect(page.get_by_text(NOTICE)).to_be_visible()
    log = page.get_by_role("log", name="Conversation")
    expect(log).to_have_attribute("aria-live", "polite")

    answer = ask(page, "where does breast cancer spread?").lower()
    assert all(site in answer for site in ("lung", "liver", "bones", "brain"))
    replies = page.get_by_role("group", name="Suggested answers").get_by_role("button")
    expect(replies).to_have_text(["Lung", "Liver", "Bones", "Brain"])

    before = bot_messages(page).count()
    press_until_focused(page, "Shift+Tab", "Liver")
    assert has_visible_focus(page)
    page.keyboard.press("Enter")
    expect(page.get_by_label("Your question")).to_be_focused()
    liver_answer = wait_for_reply(page, before).lower()
    expect(page.locator(".mbc-chat-user .mbc-chat-text").last).to_have_text("Liver")
    assert "liver" in liver_answer
    for item in sites()["sites"]["liver"]["symptoms"]:
        assert item["symptom"] in liver_answer
    expect(replies).to_have_count(0)

    shown = transcript(page)
    page.reload()
    expect(page.locator(".mbc-chat-text").last).to_be_visible()
    assert transcript(page) == shown
    save_screenshot(page, capsys)
    assert dialogs == []


@pytest.mark.e2e
@pytest.mark.browser
def test_markup_typed_by_the_user_is_shown_as_text(page: Page, dialogs: list[str]) -> None:
    open_by_keyboard(page)
    ask(page, MARKUP)
    page.wait_for_timeout(500)  # give an injected onerror handler time to fire, if any
    assert dialogs == []
    assert page.locator(".mbc-chat img").count() == 0
    assert page.locator(".mbc-chat-user .mbc-chat-text").last.inner_text() == MARKUP


@pytest.mark.e2e
@pytest.mark.browser
def test_markup_in_a_reply_is_shown_as_text(page: Page, dialogs: list[str]) -> None:
    hostile = [{"text": MARKUP, "buttons": [{"title": "<b>bold</b>", "payload": "/greet"}]}]

    def answer_with_markup(route: Route) -> None:
        route.fulfill(
            status=200,
            content_type="application/json",
            headers={"Access-Control-Allow-Origin": "*"},
            body=json.dumps(hostile),
        )

    page.route("**/webhooks/rest/webhook", answer_with_markup)
    open_by_keyboard(page)
    assert ask(page, "hello") == MARKUP
    page.wait_for_timeout(500)
    assert dialogs == []
    assert page.locator(".mbc-chat img, .mbc-chat b").count() == 0
    expect(page.get_by_role("button", name="<b>bold</b>")).to_be_visible()


def test_widget_is_small() -> None:
    size_kb = sum((WEB_DIR / name).stat().st_size for name in ("widget.js", "widget.css")) / 1024
    assert size_kb < WIDGET_BUDGET_KB, f"widget.js + widget.css are {size_kb:.1f} KB"


def test_the_demo_page_names_the_configured_server_safely() -> None:
    page = render_demo_page('http://rasa.example.org:5005"><script>alert(1)</script>')
    assert b'data-server="http://rasa.example.org:5005&quot;&gt;&lt;script&gt;' in page
    assert b"<script>alert(1)" not in page


def test_cors_allows_the_demo_page_on_its_port_by_default() -> None:
    settings = Settings(web_port=9123, cors_origins="", widget_server_url="")
    assert "http://localhost:9123" in settings.cors_origins.split()
    assert settings.widget_server_url == f"http://localhost:{settings.rasa_port}"


@pytest.mark.e2e
def test_the_web_server_serves_the_widget_but_not_its_source(servers: Servers) -> None:
    def status(path: str) -> int:
        return requests.get(f"{servers.settings.web_url}{path}", timeout=10).status_code

    assert status("/widget.js") == 200
    assert status("/widget.css") == 200
    assert status("/server.py") == 404
    assert status("/__pycache__/") == 404


@pytest.mark.e2e
@pytest.mark.browser
def test_an_answer_is_followed_by_the_question_but_emergency_guidance_is_not(page: Page) -> None:
    open_by_keyboard(page)
    ask(page, "how is it treated?")
    expect(feedback_question(page).get_by_role("button")).to_have_text(["Yes", "No"])
    expect(page.get_by_role("log").get_by_text("Was this helpful?", exact=True)).to_be_visible()

    answer = ask(page, "my mother is having a seizure right now")
    assert "911" in answer
    page.wait_for_timeout(500)
    expect(feedback_question(page)).to_have_count(0)


@pytest.mark.e2e
@pytest.mark.browser
def test_yes_by_keyboard_gets_thanks_and_no_second_question(page: Page) -> None:
    open_by_keyboard(page)
    ask(page, "what is metastatic breast cancer?")
    before = bot_messages(page).count()
    press_until_focused(page, "Shift+Tab", "Yes")
    page.keyboard.press("Enter")
    assert "thank you" in wait_for_reply(page, before).lower()
    expect(page.locator(".mbc-chat-user .mbc-chat-text").last).to_have_text("Yes")
    expect(feedback_question(page)).to_have_count(0)
    expect(page.get_by_label(COMMENT_LABEL)).to_be_hidden()


@pytest.mark.e2e
@pytest.mark.browser
def test_the_demo_page_has_no_serious_accessibility_violations(axe_page: Page) -> None:
    assert serious_violations(axe_page) == []
    open_by_keyboard(axe_page)
    ask(axe_page, "where does breast cancer spread?")
    feedback_question(axe_page).get_by_role("button", name="No").click()
    expect(axe_page.get_by_label(COMMENT_LABEL)).to_be_focused()
    assert serious_violations(axe_page) == []


def test_the_safety_notice_follows_the_emergency_number_slot() -> None:
    """One place for the number: the domain's slot; the demo page's notice is filled from it."""
    assert safety_notice() == NOTICE
    assert NOTICE in render_demo_page("http://localhost:5005").decode()
    assert "911" not in (WEB_DIR / "index.html").read_text()
    assert "911" not in (WEB_DIR / "widget.js").read_text()

"""The staff console in a real browser (headless Chromium), against the real servers.

A patient rates an answer "No" in the widget and adds a comment; staff open the console
(401 and the sign-in form without the token), find the answer in Review with its
conversation, try the same message, see the intent and the passages, and mark it reviewed.
axe-core checks every console page on the way.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from bot.serve import Servers
from bot.staff.console.token import staff_token
from tests.axe import serious_violations
from tests.test_widget_browser import ask, open_by_keyboard

QUESTION = "was it my fault that the cancer spread"
PASSAGE = "There is nothing you can do to prevent this from happening"
TIMEOUT_MS = 60_000

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


@pytest.fixture
def context_pages(browser: Browser, servers: Servers) -> Iterator[tuple[Page, Page]]:
    """The widget's demo page and a console tab, in one context that lets axe-core in."""
    context = browser.new_context(bypass_csp=True)
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)  # the CPU is shared: replies can take a while
    widget, console = context.new_page(), context.new_page()
    widget.goto(f"{servers.settings.web_url}/")
    yield widget, console
    context.close()


def rate_no_with_comment(widget: Page, comment: str) -> None:
    open_by_keyboard(widget)
    ask(widget, QUESTION)
    question = widget.get_by_role("group", name="Was this helpful?")
    question.get_by_role("button", name="No").click()
    field = widget.get_by_label("Would you like to tell us what was missing? (optional)")
    expect(field).to_be_focused()
    field.fill(comment)
    field.press("Enter")
    thanks = widget.locator(".mbc-chat-bot .mbc-chat-text", has_text="Thank you for telling us")
    expect(thanks).to_have_count(2, timeout=TIMEOUT_MS)


def sign_in(console: Page, servers: Servers) -> None:
    reply = console.goto(f"{servers.settings.staff_url}/review")
    assert reply is not None and reply.status == 401
    expect(console.get_by_role("heading", name="Staff console")).to_be_visible()
    assert serious_violations(console) == []
    console.get_by_label("Staff token").fill(staff_token(servers.settings))
    console.get_by_role("button", name="Sign in").click()
    expect(console).to_have_url(f"{servers.settings.staff_url}/try")


def rated_item(console: Page, servers: Servers, comment: str) -> Locator:
    console.goto(f"{servers.settings.staff_url}/review")
    status = console.locator("#review-status")
    expect(status).to_have_text(re.compile(r"message\(s\): Everything worth a look"))
    console.get_by_label("Show").select_option("rated_no")
    console.get_by_role("button", name="Show", exact=True).click()
    expect(status).to_have_text(re.compile(r"message\(s\): Answers rated .No."))
    return console.get_by_role("article").filter(has_text=comment)


def test_a_no_in_the_widget_is_found_tried_and_reviewed_in_the_console(
    context_pages: tuple[Page, Page], servers: Servers
) -> None:
    widget, console = context_pages
    comment = f"It did not say what to do next ({uuid.uuid4().hex[:6]})"
    rate_no_with_comment(widget, comment)
    sign_in(console, servers)

    item = rated_item(console, servers, comment)
    expect(item).to_have_count(1)
    expect(item.get_by_role("heading", name=f"“{QUESTION}”").first).to_be_visible()
    expect(item.get_by_text(PASSAGE).first).to_be_visible()
    expect(item.get_by_text("was_it_my_fault").first).to_be_visible()
    assert serious_violations(console) == []

    console.goto(f"{servers.settings.staff_url}/try")
    console.get_by_label("Messages, one per line").fill(QUESTION)
    console.get_by_role("button", name="Try").click()
    result = console.locator("#try-results")
    expect(result.get_by_text(re.compile(r"^was_it_my_fault \("))).to_be_visible()
    expect(result.get_by_text(PASSAGE)).to_be_visible()
    assert serious_violations(console) == []

    item = rated_item(console, servers, comment)
    item.get_by_label("Note").fill("Correct answer; add where to get support next")
    item.get_by_role("button", name="Mark reviewed").click()
    expect(item.get_by_role("status")).to_have_text("Reviewed just now.")
    item = rated_item(console, servers, comment)
    expect(item.get_by_label("Note")).to_have_value("Correct answer; add where to get support next")


def test_overview_and_answers_pages_show_their_numbers_accessibly(
    context_pages: tuple[Page, Page], servers: Servers
) -> None:
    _, console = context_pages
    # The sign-in link `make run` prints: the token after "#" never reaches the server.
    console.goto(f"{servers.settings.staff_url}/#token={staff_token(servers.settings)}")
    expect(console).to_have_url(f"{servers.settings.staff_url}/try")
    console.goto(f"{servers.settings.staff_url}/overview")
    expect(console.locator("figure.chart")).to_have_count(5)
    expect(console.get_by_role("link", name="Download these numbers as CSV")).to_be_visible()
    assert serious_violations(console) == []

    console.goto(f"{servers.settings.staff_url}/answers")
    expect(console.get_by_role("heading", name="what_is_mbc", exact=True)).to_be_visible()
    expect(console.get_by_text("Drawn from the article:").first).to_be_visible()
    assert serious_violations(console) == []

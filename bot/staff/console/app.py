"""The staff console's web server: its pages and the JSON API behind them (docs/staff.md).

A Sanic app (the web framework Rasa itself runs on). Every page and API call needs the staff
token, as ``Authorization: Bearer <token>`` or as the cookie the login form sets; without it
the answer is ``401`` (for a page: the login form). The static files (style sheet, script) hold
no data and need no token. No patient text is ever put into a URL, and the access log is off.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import aiohttp
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import Settings
from bot.staff.console import answers
from bot.staff.console.store import (
    KINDS,
    TRIAL_PREFIX,
    TrackerStore,
    review_items,
    statistics,
    statistics_csv,
    suggested_examples,
)
from bot.staff.console.token import is_valid

STATIC_DIR = Path(__file__).resolve().parent / "static"
# Each page is its main part (static/<page>.html) inside static/layout.html: path -> page, title.
PAGES = {
    "/": ("try", "Try"),
    "/try": ("try", "Try"),
    "/review": ("review", "Review"),
    "/overview": ("overview", "Overview"),
    "/answers": ("answers", "Answers"),
}
COOKIE = "staff_token"
# Without the token: the login form's target and the readiness check (they show no data).
PUBLIC_PATHS = {"/login", "/health"}
# The login page's error line, shown only after a wrong token.
ERROR_HIDDEN = '<p class="error" role="alert" hidden>'
ERROR_SHOWN = '<p class="error" role="alert">'
MAX_TRIAL_MESSAGES = 10
MAX_NOTE_CHARS = 2000
REPLY_TIMEOUT_S = 60
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

Handler = Callable[..., Coroutine[Any, Any, HTTPResponse]]


def error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


def create_app(settings: Settings, token: str) -> Sanic:
    """The console for the servers of ``settings``, open to holders of ``token``."""
    app = Sanic(f"staff_console_{secrets.token_hex(4)}")
    app.config.FALLBACK_ERROR_FORMAT = "json"
    store = TrackerStore(settings.tracker_db)

    def authorised(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        bearer = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
        return is_valid(bearer, token) or is_valid(request.cookies.get(COOKIE, ""), token)

    @app.middleware("request")
    async def require_token(request: Request) -> HTTPResponse | None:
        if request.path.startswith("/static/") or request.path in PUBLIC_PATHS:
            return None
        if authorised(request):
            if request.method == "POST" and request.content_type != "application/json":
                # A form on another site cannot send JSON, so the cookie cannot be abused.
                return error(415, "Send JSON (Content-Type: application/json).")
            return None
        if request.path.startswith("/api/"):
            return error(401, "The staff token is missing or wrong.")
        return login_page(status=401)

    @app.middleware("response")
    async def security_headers(request: Request, reply: HTTPResponse) -> None:
        reply.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        reply.headers["X-Content-Type-Options"] = "nosniff"
        reply.headers["Cache-Control"] = "no-store"
        reply.headers["Referrer-Policy"] = "no-referrer"

    @app.get("/health")
    async def health(request: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @app.post("/login")
    async def login(request: Request) -> HTTPResponse:
        given = (request.form or {}).get("token", "")
        if not is_valid(given, token):
            return login_page(status=401, failed=True)
        reply = response.redirect("/try", status=303)
        reply.cookies[COOKIE] = token
        reply.cookies[COOKIE]["httponly"] = True
        reply.cookies[COOKIE]["samesite"] = "Strict"
        reply.cookies[COOKIE]["path"] = "/"
        return reply

    for path, (page, title) in PAGES.items():
        app.add_route(page_handler(page, title), path, methods=["GET"], name=f"page{path[1:]}")
    app.static("/static", str(STATIC_DIR), name="static")

    @app.post("/api/try")
    async def try_messages(request: Request) -> HTTPResponse:
        body = request.json if isinstance(request.json, dict) else {}
        messages = body.get("messages") or [body.get("message")]
        if not all(isinstance(message, str) for message in messages):
            return error(400, 'Send "message" (a string) or "messages" (a list of strings).')
        if len(messages) > MAX_TRIAL_MESSAGES:
            return error(400, f"At most {MAX_TRIAL_MESSAGES} messages at a time.")
        sender = body.get("sender")
        if not (isinstance(sender, str) and sender.startswith(TRIAL_PREFIX)):
            sender = TRIAL_PREFIX + secrets.token_hex(8)
        turns = []
        for message in messages:
            turns.append(await trial_turn(settings, store, sender, message))
        return response.json({"sender": sender, "turns": turns})

    @app.get("/api/review")
    async def review(request: Request) -> HTTPResponse:
        kind = request.args.get("kind", "all")
        if kind not in (*KINDS, "all"):
            return error(400, f"kind is one of: all, {', '.join(KINDS)}.")
        items = await asyncio.to_thread(lambda: review_items(store.turns(), store.notes(), kind))
        return response.json({"kind": kind, "kinds": list(KINDS), "items": items})

    @app.post("/api/review/<event_id:int>")
    async def mark_reviewed(request: Request, event_id: int) -> HTTPResponse:
        body = request.json if isinstance(request.json, dict) else {}
        note, intent = body.get("note", ""), body.get("suggested_intent") or None
        if not isinstance(note, str) or len(note) > MAX_NOTE_CHARS:
            return error(400, f'"note" must be a string of at most {MAX_NOTE_CHARS} characters.')
        if intent is not None and intent not in answers.intents():
            return error(400, '"suggested_intent" must be one of the domain\'s intents.')
        if not await asyncio.to_thread(store.mark_reviewed, event_id, note, intent):
            return error(404, "No patient message with this id.")
        return response.json({"id": event_id, "reviewed": True})

    @app.get("/api/export")
    async def export(request: Request) -> HTTPResponse:
        text = await asyncio.to_thread(lambda: suggested_examples(store.turns(), store.notes()))
        return download(text, "suggested-examples.yml", "application/yaml")

    @app.get("/api/stats")
    async def stats(request: Request) -> HTTPResponse:
        return response.json(await asyncio.to_thread(lambda: statistics(store.turns())))

    @app.get("/api/stats.csv")
    async def stats_csv(request: Request) -> HTTPResponse:
        numbers = await asyncio.to_thread(lambda: statistics(store.turns()))
        return download(statistics_csv(numbers), "statistics.csv", "text/csv")

    @app.get("/api/answers")
    async def answer_list(request: Request) -> HTTPResponse:
        return response.json(await asyncio.to_thread(answers.answers))

    return app


def render_page(page: str, title: str) -> str:
    layout = (STATIC_DIR / "layout.html").read_text(encoding="utf-8")
    content = (STATIC_DIR / f"{page}.html").read_text(encoding="utf-8")
    values = {"{{TITLE}}": title, "{{PAGE}}": page, "{{CONTENT}}": content}
    for placeholder, value in values.items():
        layout = layout.replace(placeholder, value)
    return layout


def page_handler(page: str, title: str) -> Handler:
    async def handler(request: Request) -> HTTPResponse:
        return response.html(render_page(page, title))

    return handler


def login_page(status: int, failed: bool = False) -> HTTPResponse:
    page = (STATIC_DIR / "login.html").read_text(encoding="utf-8")
    if failed:
        page = page.replace(ERROR_HIDDEN, ERROR_SHOWN)
    return response.html(page, status=status)


def download(text: str, filename: str, content_type: str) -> HTTPResponse:
    return response.text(
        text,
        content_type=f"{content_type}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def trial_turn(
    settings: Settings, store: TrackerStore, sender: str, message: str
) -> dict[str, Any]:
    """Send ``message`` through the REST channel, as a patient would, and explain the turn."""
    after = await asyncio.to_thread(store.last_event_id, sender)
    url = f"{settings.rasa_url}/webhooks/rest/webhook"
    timeout = aiohttp.ClientTimeout(total=REPLY_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        payload = {"sender": sender, "message": message}
        async with session.post(url, json=payload) as reply:
            sent = await reply.json() if reply.status == 200 else []
    turns = await asyncio.to_thread(store.trial_turns, sender, after)
    if not turns:
        # The channel answered itself (an empty or too long message): nothing reached Rasa.
        texts = [item.get("text", "") for item in sent if isinstance(item, dict)]
        return {"message": message, "answered_by_channel": texts}
    return turns[0].as_json()

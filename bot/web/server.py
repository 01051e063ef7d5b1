"""A small static HTTP server for the widget and its demo page.

The demo page names the Rasa server the widget talks to; that address depends on where Rasa
runs, so the server fills it into ``index.html`` (``{{RASA_SERVER_URL}}``) from its
``--rasa-url`` option. It also fills in the "Was this helpful?" question and its buttons from
the domain's ``utter_ask_rating`` (``bot.feedback``), so the words have one reviewed place.
Every other file is served as it is.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import io
import json
import sys
import urllib.parse
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any

from bot import paths
from bot.article import load_yaml
from bot.feedback import rating_question
from bot.settings import Settings

WEB_DIR = Path(__file__).resolve().parent
DEMO_PAGE = WEB_DIR / "index.html"
SERVER_URL_PLACEHOLDER = "{{RASA_SERVER_URL}}"
QUESTION_PLACEHOLDER = "{{FEEDBACK_QUESTION}}"
BUTTONS_PLACEHOLDER = "{{FEEDBACK_BUTTONS}}"
NOTICE_PLACEHOLDER = "{{SAFETY_NOTICE}}"
NOTICE_RESPONSE = "utter_safety_notice"
SERVED_SUFFIXES = {".html", ".js", ".css", ".png", ".svg", ".ico"}


def safety_notice() -> str:
    """The widget's safety line, with the domain's emergency number (one place to change it)."""
    domain = load_yaml(paths.DOMAIN)
    number = str(domain["slots"]["emergency_number"]["initial_value"])
    text: str = domain["responses"][NOTICE_RESPONSE][0]["text"]
    return text.replace("{emergency_number}", number)


def render_demo_page(rasa_url: str) -> bytes:
    """The demo page with the widget pointed at ``rasa_url``."""
    question, buttons = rating_question()
    values = {
        NOTICE_PLACEHOLDER: safety_notice(),
        SERVER_URL_PLACEHOLDER: rasa_url,
        QUESTION_PLACEHOLDER: question,
        BUTTONS_PLACEHOLDER: json.dumps(buttons),
    }
    page = DEMO_PAGE.read_text(encoding="utf-8")
    for placeholder, value in values.items():
        page = page.replace(placeholder, html.escape(value, quote=True))
    return page.encode()


def content_security_policy(rasa_url: str) -> str:
    """Only the page's own files run, and the widget may only call the Rasa server.

    A second line of defence: the widget never turns text into HTML, and even if it did, no
    inline script or event handler could run on this page.
    """
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        f"connect-src {rasa_url}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


class WidgetRequestHandler(SimpleHTTPRequestHandler):
    """Serves ``bot/web``, with the demo page rendered for the configured Rasa server."""

    def __init__(self, *args: Any, rasa_url: str, **kwargs: Any) -> None:
        self.rasa_url = rasa_url
        super().__init__(*args, directory=str(WEB_DIR), **kwargs)

    def send_head(self) -> Any:
        """Headers for GET and HEAD; the body to send, or None after an error."""
        path = urllib.parse.urlsplit(self.path).path
        if path in ("/", "/index.html"):
            body = render_demo_page(self.rasa_url)
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            return io.BytesIO(body)
        if PurePosixPath(path).suffix not in SERVED_SUFFIXES:
            # Only the page's own files: not this module, not folder listings.
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        return super().send_head()

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Security-Policy", content_security_policy(self.rasa_url))
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write(f"{self.address_string()} {format % args}\n")


def serve(port: int, bind: str, rasa_url: str) -> None:
    """Serve the widget until interrupted."""
    handler = partial(WidgetRequestHandler, rasa_url=rasa_url.rstrip("/"))
    with ThreadingHTTPServer((bind, port), handler) as httpd:
        print(f"Serving the widget demo page at http://{bind}:{port}/", flush=True)
        httpd.serve_forever()


def main(argv: list[str] | None = None) -> None:
    defaults = Settings.from_environment()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=defaults.web_port)
    parser.add_argument("--bind", default=defaults.web_host)
    parser.add_argument("--rasa-url", default=defaults.widget_server_url)
    arguments = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        serve(arguments.port, arguments.bind, arguments.rasa_url)


if __name__ == "__main__":
    main()

"""The staff console's token: ``STAFF_TOKEN``, else one made at first start and kept on disk."""

from __future__ import annotations

import hmac
import os
import secrets

from bot.settings import Settings


def staff_token(settings: Settings) -> str:
    """``STAFF_TOKEN`` if set, else the token in ``var/staff-token``, made if missing (0600)."""
    if settings.staff_token:
        return settings.staff_token
    path = settings.staff_token_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created readable by its owner only, before the token is written into it.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(24) + "\n")
    return path.read_text(encoding="utf-8").strip()


def token_source(settings: Settings) -> str:
    return "from STAFF_TOKEN" if settings.staff_token else f"kept in {settings.staff_token_file}"


def is_valid(given: str, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())

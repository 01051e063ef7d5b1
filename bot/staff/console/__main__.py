"""``python -m bot.staff.console``: serve the staff console with the settings of the environment."""

from __future__ import annotations

import logging

from bot.settings import Settings
from bot.staff.console.app import create_app
from bot.staff.console.token import staff_token


def main() -> None:
    settings = Settings.from_environment()
    app = create_app(settings, staff_token(settings))
    logging.getLogger("sanic.access").disabled = True
    app.run(
        host=settings.staff_host,
        port=settings.staff_port,
        access_log=False,
        motd=False,
        workers=1,
    )


if __name__ == "__main__":
    main()

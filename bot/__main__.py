"""Command-line tools for support staff and operators: ``python -m bot --help``.

Each tool is a module with ``COMMAND`` (its name), ``HELP`` (one line), a docstring (its
description), ``add_arguments(parser)`` and ``run(arguments) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules that each add one sub-command.
COMMAND_MODULES: tuple[str, ...] = (
    "bot.retention",
    "bot.serving.migrate",
    "bot.settings",
    "bot.staff.ask",
    "bot.staff.review",
    "bot.evaluation.eval",
    "bot.evaluation.bench",
    "bot.evaluation.profile",
)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m bot", description="Tools for support staff and operators."
    )
    subparsers = root.add_subparsers(dest="command", required=True)
    for module_name in COMMAND_MODULES:
        module = importlib.import_module(module_name)
        command = subparsers.add_parser(
            module.COMMAND,
            help=module.HELP,
            description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(command)
        command.set_defaults(func=module.run)
    return root


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    status: int = arguments.func(arguments)
    return status


if __name__ == "__main__":
    sys.exit(main())

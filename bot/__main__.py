"""Command-line tools for support staff and operators: ``python -m bot --help``.

Each tool is a module that exposes ``add_parser(subparsers)``; the parser it adds sets
``func`` to the function that runs the command with the parsed arguments.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules that each add one sub-command.
COMMAND_MODULES: tuple[str, ...] = ("bot.retention", "bot.staff.ask", "bot.staff.review")


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    subparsers = root.add_subparsers(dest="command", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_parser(subparsers)
    return root


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    status: int = arguments.func(arguments)
    return status


if __name__ == "__main__":
    sys.exit(main())

"""axe-core (npm, pinned in package.json, installed by `make node`) run on a page in the browser."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from bot import PROJECT_ROOT

AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")


def axe_path() -> Path:
    if not AXE.exists():
        pytest.fail(f"axe-core is not installed at {AXE}: run `make node` (make test does).")
    return AXE


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each.

    The page's context must bypass its Content-Security-Policy (``bypass_csp=True``), which
    would rightly refuse the injected script.
    """
    page.add_script_tag(path=str(axe_path()))
    found: list[str] = page.evaluate(
        """async (impacts) => {
            const results = await axe.run(document, {resultTypes: ["violations"]});
            return results.violations
                .filter((violation) => impacts.includes(violation.impact))
                .map((violation) => `${violation.id} (${violation.impact}): ` +
                    violation.nodes.map((node) => node.target.join(" ")).join(", "));
        }""",
        list(BLOCKING_IMPACTS),
    )
    return found

"""axe-core in the browser tests: every page they visit is checked for accessibility.

axe-core comes from the npm registry (package.json pins it; `make test` runs `npm ci`). It
is evaluated through the DevTools protocol, so the portal's strict CSP needs no exception.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings

from tests.conftest import missing

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


@cache
def axe_source() -> str | None:
    return AXE.read_text() if AXE.exists() else None


def violations(page) -> list[dict]:
    """The serious and critical WCAG 2.1 AA violations of the page as it stands."""
    source = axe_source()
    if source is None:
        missing(f"axe-core is not installed at {AXE}: run `npm ci --no-audit --no-fund`")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    result = page.evaluate(
        """async () => {
            const report = await axe.run(document, {
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
                resultTypes: ["violations"],
            });
            return report.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
            }));
        }"""
    )
    return [violation for violation in result if violation["impact"] in SERIOUS]


def assert_accessible(page, where: str = "") -> None:
    """Fail with the page's serious/critical axe violations, each with the elements at fault."""
    found = violations(page)
    assert not found, f"{where or page.url}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {v['targets']}" for v in found
    )

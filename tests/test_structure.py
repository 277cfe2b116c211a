"""The layout's promises (DESIGN.md §4, STYLE.md): no import circles between modules, every
ballot subject behind the one protocol, statuses named by their TextChoices, services split
by noun, and who-may-do-what kept in `permissions.py`."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from django.conf import settings
from django.test import SimpleTestCase

from governance.subjects import SUBJECT_MODULES, BallotSubject, subject_module

APPS = ("governance", "charters", "compute", "roadmap", "identity")
ROOT = Path(settings.BASE_DIR)
SERVICE_LINE_LIMIT = 500


def app_modules() -> dict[str, Path]:
    """Every module of the four apps (migrations aside), by dotted name."""
    modules = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT).with_suffix("")
            if "migrations" in relative.parts:
                continue
            parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
            modules[".".join(parts)] = path
    return modules


def module_level_imports(path: Path, known: set[str]) -> set[str]:
    """The project modules a module imports when it is loaded (imports inside functions and
    under `if TYPE_CHECKING:` run later or never, so they cannot make a circle at import)."""
    imported = set()
    for node in ast.parse(path.read_text()).body:
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        for name in names:
            # `from a.b import c` names the module a.b.c when there is one, else a.b.
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                imported.add(name)
    return imported


def import_cycles() -> list[list[str]]:
    """Strongly connected groups of more than one module in the import graph (Tarjan)."""
    modules = app_modules()
    known = set(modules)
    graph = {name: module_level_imports(path, known) - {name} for name, path in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            # A package and the submodules its __init__ re-exports are one unit, not a circle.
            if len(group) > 1 and not all(
                m.startswith(min(group, key=len) + ".") or m == min(group, key=len) for m in group
            ):
                cycles.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return cycles


def status_literals(path: Path) -> list[str]:
    """Places where a status is compared with, or filtered by, a bare string."""
    found = []

    def is_status(node: ast.AST) -> bool:
        name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""
        return name == "status" or name.endswith("_status")

    def is_literal(node: ast.AST) -> bool:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return True
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return any(is_literal(element) for element in node.elts)
        return False

    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(is_status(side) for side in sides) and any(is_literal(side) for side in sides):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
        elif isinstance(node, ast.keyword) and node.arg:
            field = node.arg.split("__")
            if any(part == "status" or part.endswith("_status") for part in field) and is_literal(node.value):
                found.append(f"{path.relative_to(ROOT)}:{node.value.lineno}")
    return found


class LayoutTests(SimpleTestCase):
    def test_no_modules_import_each_other_in_a_circle(self):
        self.assertEqual(import_cycles(), [])

    def test_every_ballot_subject_module_implements_the_subject_protocol(self):
        expected = {
            name: list(inspect.signature(member).parameters)[1:]
            for name, member in inspect.getmembers(BallotSubject, inspect.isfunction)
            if not name.startswith("_")
        }
        for subject_type, path in SUBJECT_MODULES.items():
            if path is None:
                continue
            module = subject_module(subject_type)
            with self.subTest(subject_type=subject_type):
                self.assertIsInstance(module, BallotSubject)
                for name, parameters in expected.items():
                    self.assertEqual(list(inspect.signature(getattr(module, name)).parameters), parameters, name)

    def test_statuses_are_named_by_their_choices_never_by_a_string(self):
        found = [place for path in app_modules().values() for place in status_literals(path)]
        self.assertEqual(found, [], "compare statuses with the app's TextChoices (choices.py)")

    def test_no_services_module_holds_more_than_one_noun_worth_of_lines(self):
        too_long = {
            str(path.relative_to(ROOT)): lines
            for name, path in app_modules().items()
            if ".services" in name and (lines := len(path.read_text().splitlines())) > SERVICE_LINE_LIMIT
        }
        self.assertEqual(too_long, {})

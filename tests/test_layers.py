"""The layers of ``bot``: every module imports, no import runs back up a floor, no circles.

Imports are read from the source with ``ast``, including those inside functions (a lazy import
hides a dependency, it does not remove it)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOT = ROOT / "bot"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(BOT.rglob("*.py")) if "migrations" not in p.parts}


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node, except under ``if TYPE_CHECKING:`` (annotations only, never run)."""
    nodes: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        nodes.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and ast.unparse(child.test) in (
                "TYPE_CHECKING",
                "typing.TYPE_CHECKING",
            ):
                todo.extend(child.orelse)
            else:
                todo.append(child)
    return nodes


def _imports(name: str, path: Path) -> set[str]:
    """The ``bot`` modules ``name`` imports, anywhere in its source (functions included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return {m for m in found if m in MODULES and m != name}


IMPORTS = {name: _imports(name, path) for name, path in MODULES.items()}


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_imports(name: str) -> None:
    importlib.import_module(name)


# The ground floor: parsing, labels, masking, errors, formats, settings, models. It serves everyone.
GROUND = (
    "bot.text",
    "bot.labels_zh",
    "bot.masking",
    "bot.errors",
    "bot.ids",
    "bot.clock",
    "bot.config",
    "bot.db",
    "bot.security",
    "bot.models",
    "bot.catalog",
)
ABOVE_GROUND = ("bot.services", "bot.seeding", "bot.channels", "bot.jobs", "bot.web")


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        *((low, up) for low in GROUND for up in ABOVE_GROUND),
        ("bot.services", "bot.seeding"),
        ("bot.services", "bot.channels"),
        ("bot.services", "bot.web"),
        ("bot.services", "bot.jobs"),
        ("bot.channels", "bot.web"),
        ("bot.channels", "bot.jobs"),
        ("bot.jobs", "bot.web"),
    ],
)
def test_no_import_runs_back_up_a_floor(lower: str, upper: str) -> None:
    wrong = sorted(
        f"{name} -> {target}"
        for name, targets in IMPORTS.items()
        if _under(name, lower)
        for target in targets
        if _under(target, upper)
    )
    assert wrong == []


def test_no_import_circles() -> None:
    """Between modules (a package's ``__init__`` is left out: importing ``a.b`` runs ``a``)."""
    graph = {name: {t for t in targets if not name.startswith(t + ".")} for name, targets in IMPORTS.items()}
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                circles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert circles == []


def test_bot_imports_no_rasa_and_no_actions() -> None:
    """``bot`` runs in the app's environment, which has no Rasa; actions sit above it."""
    wrong = []
    for name, path in MODULES.items():
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                roots = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                roots = [(node.module or "").split(".")[0]]
            else:
                continue
            wrong += [f"{name} -> {root}" for root in roots if root in ("rasa", "rasa_sdk", "actions")]
    assert wrong == []

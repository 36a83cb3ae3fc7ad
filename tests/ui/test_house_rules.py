"""The UI's house rules, checked over every screen, widget and dialog class:

- every binding that carries an id is a command of the registry (cockpit.commands), bound
  to the key and action the registry declares, and every command is bound where its
  scope says (the cockpit screen, or the pane with that id);
- dialogs import neither screens nor widgets; widgets never import screens.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

from textual.binding import Binding
from textual.dom import DOMNode

import cockpit.ui
from cockpit.commands import COMMANDS, command
from cockpit.ui.screens.main import CockpitScreen

UI = Path(cockpit.ui.__file__).parent


def ui_classes() -> list[type[DOMNode]]:
    found = []
    for info in pkgutil.walk_packages(cockpit.ui.__path__, "cockpit.ui."):
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, DOMNode) and obj.__module__ == info.name:
                found.append(obj)
    return found


def own_bindings(cls: type[DOMNode]) -> list[Binding]:
    return list(Binding.make_bindings(cls.__dict__.get("BINDINGS", [])))


def test_every_binding_with_an_id_is_a_registry_command():
    classes = ui_classes()
    names = {c.__name__ for c in classes}
    assert {"CockpitScreen", "FeedView", "DraftsPane", "RaiseModal", "HelpScreen"} <= names
    with_id = 0
    for cls in classes:
        for b in own_bindings(cls):
            if b.id is None:
                continue
            with_id += 1
            cmd = command(b.id)  # KeyError: an id the registry does not declare
            assert (b.key, b.action) == (cmd.key, cmd.action), f"{cls.__name__}: {b.id}"
    assert with_id == len(COMMANDS)


def test_every_command_is_bound_where_its_scope_says():
    panes = {cls.__name__: cls for cls in ui_classes()}
    where = {
        "screen": CockpitScreen,
        "feed": panes["FeedView"],
        "timeline": panes["TimelinePane"],
        "checklist": panes["ChecklistPane"],
        "drafts": panes["DraftsPane"],
    }
    for cmd in COMMANDS:
        ids = {b.id for b in own_bindings(where[cmd.scope])}
        assert cmd.id in ids, f"{cmd.id} is not bound on {where[cmd.scope].__name__}"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_dialogs_import_neither_screens_nor_widgets_and_widgets_no_screens():
    rules = {
        "dialogs": ("cockpit.ui.screens", "cockpit.ui.widgets", "cockpit.ui.app"),
        "widgets": ("cockpit.ui.screens", "cockpit.ui.app"),
    }
    for folder, forbidden in rules.items():
        files = sorted((UI / folder).glob("*.py"))
        assert files
        for path in files:
            bad = {m for m in imported_modules(path) if m.startswith(forbidden)}
            assert not bad, f"{folder}/{path.name} imports {sorted(bad)}"

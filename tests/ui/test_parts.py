"""Styling lives in .tcss (DESIGN.md §2): Python names parts (component classes), never
colours, and every part it names is declared by a widget and styled in the stylesheet.
A theme change recolours what is on screen at once, parts included."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

from textual.dom import DOMNode

import cockpit.ui

from . import scenes
from .conftest import SIZE, Harness, settle

UI = Path(cockpit.ui.__file__).parent
STYLE_WORD = re.compile(r"^(not )?(bold|italic|dim|reverse|strike|underline|blink)\b")
VARIABLE = re.compile(r"\$[a-z][a-z0-9-]*")


def sources() -> list[Path]:
    return sorted(UI.rglob("*.py"))


def declared_parts() -> dict[str, type[DOMNode]]:
    parts: dict[str, type[DOMNode]] = {}
    for info in pkgutil.walk_packages(cockpit.ui.__path__, "cockpit.ui."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, DOMNode) and cls.__module__ == info.name:
                for name in cls.__dict__.get("COMPONENT_CLASSES", ()):
                    parts[name] = cls
    return parts


def strings_in_code(path: Path) -> list[tuple[int, str, bool]]:
    """(line, text, is the start of an f-string) of the string constants in `path`, but
    for docstrings and DEFAULT_CSS."""
    tree = ast.parse(path.read_text())
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            skip.add(id(body[0].value))
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "DEFAULT_CSS" for t in node.targets
        ):
            skip.add(id(node.value))
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.JoinedStr):
            first = node.values[0] if node.values else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                skip.add(id(first))
                found.append((node.lineno, first.value, True))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value, False))
    return found


def test_no_colour_or_text_style_is_written_in_python():
    bad = []
    for path in sources():
        for line, text, _ in strings_in_code(path):
            if VARIABLE.search(text) or STYLE_WORD.match(text):
                bad.append(f"{path.relative_to(UI)}:{line}: {text!r}")
    assert not bad, "style strings in Python (name a part instead):\n" + "\n".join(bad)


def test_every_part_named_in_python_is_declared():
    declared = declared_parts()
    assert {"timeline--time", "drafts--failed", "dialog--muted", "keybar--key"} <= set(declared)
    missing = []
    for path in sources():
        for line, text, prefix in strings_in_code(path):
            if not (text.startswith(".") and "--" in text):
                continue
            name = text[1:]
            ok = any(d.startswith(name) for d in declared) if prefix else name in declared
            if not ok:
                missing.append(f"{path.relative_to(UI)}:{line}: {text!r}")
    assert not missing, "parts no widget declares:\n" + "\n".join(missing)


def named_parts() -> set[str]:
    """The parts Python names (an f-string's start names every part it begins)."""
    declared = declared_parts()
    named: set[str] = set()
    for path in sources():
        for _, text, prefix in strings_in_code(path):
            if text.startswith(".") and "--" in text:
                name = text[1:]
                named |= {d for d in declared if d.startswith(name)} if prefix else {name}
    return named


def test_every_part_named_in_python_is_styled():
    css = (UI / "cockpit.tcss").read_text()
    declared = declared_parts()
    unstyled = []
    for name in sorted(named_parts()):
        cls = declared[name]
        where = css + "".join(
            getattr(base, "DEFAULT_CSS", "") for base in cls.__mro__ if issubclass(base, DOMNode)
        )
        if not re.search(rf"\.{re.escape(name)}(?![\w-])", where):
            unstyled.append(f"{cls.__name__}: {name}")
    assert not unstyled, "named but styled nowhere:\n" + "\n".join(unstyled)


def screen_colours(app) -> set[str]:  # type: ignore[no-untyped-def]
    """Every colour (text and background) on screen, as #rrggbb."""
    found: set[str] = set()
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            style = segment.style
            if style is None:
                continue
            for colour in (style.color, style.bgcolor):
                if colour is not None and colour.triplet is not None:
                    found.add(colour.triplet.hex)
    return found


async def test_a_theme_change_recolours_every_part_on_screen(harness: Harness):
    scenes.mid_flight(harness)
    harness.prefs.set("theme", "cockpit-dark")
    app = harness.app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dark = {k: v.lower() for k, v in app.get_css_variables().items() if v.startswith("#")}
        before = screen_colours(app)
        # the header's severity badge, the timeline's status entries, a failed draft
        for name in ("sev-critical", "secondary", "error"):
            assert dark[name] in before, name
        app.theme = "cockpit-light"
        await settle(pilot)
        light = {k: v.lower() for k, v in app.get_css_variables().items() if v.startswith("#")}
        after = screen_colours(app)
        for name in ("sev-critical", "secondary", "error", "primary", "warning", "success"):
            if dark[name] != light[name]:
                assert dark[name] not in after, f"${name} of the old theme still on screen"
        for name in ("sev-critical", "secondary", "error"):
            assert light[name] in after, name

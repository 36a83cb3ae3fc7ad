"""The house rule: lower layers never import Textual or the UI (DESIGN.md §2).

Each module is imported in a fresh interpreter and `sys.modules` inspected, so an import
hidden behind another module is caught too.
"""

import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import cockpit

LOWER = (
    "cockpit.domain",
    "cockpit.store",
    "cockpit.integrations",
    "cockpit.application",
    "cockpit.config",
    "cockpit.clipboard",
    "cockpit.secrets",
    "cockpit.cli",
)


def lower_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(cockpit.__path__, "cockpit."):
        if info.name.startswith(LOWER) or info.name in LOWER:
            names.append(info.name)
    return sorted(names)


def test_there_are_modules_to_check():
    mods = lower_modules()
    assert "cockpit.domain.incident" in mods and "cockpit.store.store" in mods


@pytest.mark.parametrize("module", lower_modules())
def test_lower_layer_does_not_import_textual(module: str):
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.') "
        "or m.startswith('cockpit.ui')); print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} pulls in {out.stdout.strip()}"


def test_help_does_not_import_textual_or_httpx():
    code = (
        "import sys, contextlib, io\nfrom cockpit import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        cli.main(['--help'])\n    except SystemExit:\n        pass\n"
        "print('LOADED:' + ','.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = out.stdout.strip().split("LOADED:")[1].split(",")
    assert "cockpit" in loaded
    assert "textual" not in loaded and "httpx" not in loaded and "tinydb" not in loaded


def import_cycles(package: str) -> list[list[str]]:
    """Every group of modules of `package` that import each other in a loop (Tarjan's
    strongly connected components over the import graph, type-checking imports included)."""
    import grimp

    graph = grimp.build_graph(package)
    modules = sorted(graph.modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(m: str) -> None:  # iterative enough for this size: depth is the import depth
        index[m] = low[m] = len(index)
        stack.append(m)
        on_stack.add(m)
        for n in sorted(graph.find_modules_directly_imported_by(m)):
            if n not in index:
                visit(n)
                low[m] = min(low[m], low[n])
            elif n in on_stack:
                low[m] = min(low[m], index[n])
        if low[m] == index[m]:
            group = []
            while True:
                n = stack.pop()
                on_stack.discard(n)
                group.append(n)
                if n == m:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for m in modules:
        if m not in index:
            visit(m)
    return cycles


def test_no_import_cycle_anywhere():
    assert import_cycles("cockpit") == []


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    pkg = tmp_path / "loopy"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from loopy import b\n")
    (pkg / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from loopy import a\n"
    )
    (pkg / "c.py").write_text("from loopy import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles("loopy") == [["loopy.a", "loopy.b"]]


def test_the_import_contracts_hold():
    """The contracts in pyproject.toml (layers, no Textual below the UI, widgets never
    import screens …), run as CI runs them."""
    out = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports")],
        capture_output=True,
        text=True,
        cwd=Path(cockpit.__file__).parent.parent,
    )
    assert out.returncode == 0, out.stdout[-3000:]


def test_list_and_note_import_neither_textual_httpx_nor_jinja2(tmp_path: Path) -> None:
    """`cockpit list` and `cockpit note` are a script's tools: they start fast by importing
    only what they need (bench/run.py's `cli` section measures them)."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")},
        "COCKPIT_CONFIG": str(tmp_path / "none.toml"),
        "COCKPIT_DATA_DIR": str(tmp_path / "data"),
        "COCKPIT_LOG_DIR": str(tmp_path / "logs"),
        "COCKPIT_USER": "ada",
    }
    raised = subprocess.run(
        [sys.executable, "-m", "cockpit", "raise", "checkout down", "--local"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    iid = raised.stdout.strip()
    for argv in (["list", "--all"], ["note", iid, "a", "note"]):
        code = (
            "import sys, contextlib, io\nfrom cockpit import cli\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    status = cli.main({argv!r})\n"
            "print(f'STATUS:{status}')\n"
            "print('LOADED:' + ','.join(sorted({m.split('.')[0] for m in sys.modules})))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        assert "STATUS:0" in out.stdout, out.stderr
        loaded = out.stdout.strip().split("LOADED:")[1].split(",")
        assert "tinydb" in loaded  # it did read the store
        for heavy in ("textual", "httpx", "jinja2", "asyncio"):
            assert heavy not in loaded, f"cockpit {argv[0]} imports {heavy}"

"""The house rule: lower layers never import Textual or the UI (DESIGN.md §2).

Each module is imported in a fresh interpreter and `sys.modules` inspected, so an import
hidden behind another module is caught too.
"""

import pkgutil
import subprocess
import sys

import pytest

import cockpit

LOWER = (
    "cockpit.domain",
    "cockpit.store",
    "cockpit.integrations",
    "cockpit.application.service",
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

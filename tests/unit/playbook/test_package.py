"""The playbook package as a whole: what it imports, and the layering of its modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import cockpit.domain.playbook as package


def test_the_domain_module_imports_no_ui_store_or_integrations() -> None:
    code = (
        "import sys, cockpit.domain.playbook as p; p.default_playbook();"
        "bad = [m for m in sys.modules if m.split('.')[0] == 'textual'"
        " or m.startswith(('cockpit.ui', 'cockpit.store', 'cockpit.integrations'))];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


# Bottom up: a module may import only the modules listed before it.
LAYERS = ["conditions", "model", "progress", "loader"]


def _imported_siblings(module: str) -> set[str]:
    tree = ast.parse((Path(package.__file__).parent / f"{module}.py").read_text("utf-8"))
    prefix = "cockpit.domain.playbook."
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n[len(prefix) :].split(".")[0] for n in names if n.startswith(prefix)}
    return found


def test_the_modules_import_only_the_layers_below_them() -> None:
    for i, module in enumerate(LAYERS):
        assert _imported_siblings(module) <= set(LAYERS[:i]), module
    assert _imported_siblings("loader") == {"conditions", "model"}  # the check sees imports


def test_the_package_re_exports_every_public_name_of_its_modules() -> None:
    from cockpit.domain.playbook import conditions, loader, model, progress

    modules = (conditions, model, progress, loader)
    assert sorted(package.__all__) == sorted(n for m in modules for n in m.__all__)
    for module in modules:
        for name in module.__all__:
            assert getattr(package, name) is getattr(module, name), name

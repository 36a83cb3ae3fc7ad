"""The command registry (cockpit.commands): plain data, declared once, and the ids the
config lets `[keys]` remap are read from it (no hand-kept copy)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from cockpit import commands, keymap
from cockpit.config import ConfigError, load_settings

SCOPES = {"screen", "feed", "timeline", "checklist", "drafts"}


def test_each_command_is_declared_once_with_all_it_needs():
    ids = [c.id for c in commands.COMMANDS]
    assert len(ids) == len(set(ids)), "an id is declared twice"
    for c in commands.COMMANDS:
        assert c.id and c.key and c.action and c.description and c.category and c.help, c
        assert c.scope in SCOPES, c
        assert commands.command(c.id) is c
    # one key means one thing where it works
    seen: dict[tuple[str, str], str] = {}
    for c in commands.COMMANDS:
        assert (c.scope, c.key) not in seen, f"{c.id} and {seen[(c.scope, c.key)]}: {c.key}"
        seen[(c.scope, c.key)] = c.id


def test_in_scope_partitions_the_registry():
    by_scope = [c for scope in SCOPES for c in commands.in_scope(scope)]
    assert sorted(c.id for c in by_scope) == sorted(c.id for c in commands.COMMANDS)


def test_the_remappable_ids_are_the_registry_s():
    assert tuple(c.id for c in commands.COMMANDS) == keymap.BINDING_IDS
    assert "raise" in keymap.BINDING_IDS and "send" in keymap.BINDING_IDS


@pytest.mark.parametrize("module", ["cockpit.commands", "cockpit.keymap", "cockpit.config"])
def test_the_registry_needs_no_textual(module: str):
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'textual' "
        "or m.startswith('cockpit.ui'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} pulls in {out.stdout.strip()}"


def test_config_keys_accept_every_registry_id_and_nothing_else(tmp_path):
    path = tmp_path / "config.toml"
    lines = "\n".join(f'{c.id} = "f{i % 12 + 1}"' for i, c in enumerate(commands.COMMANDS))
    path.write_text(f"[keys]\n{lines}\n")
    settings = load_settings(path, env={})
    assert set(settings.keys) == {c.id for c in commands.COMMANDS}

    path.write_text('[keys]\nnot-a-command = "x"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path, env={})
    assert "not-a-command" in str(err.value)

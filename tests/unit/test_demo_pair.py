"""`cockpit demo --pair` / `--range URL --as NAME`: the arguments, the partner's command,
the address a cockpit may join, and a cockpit started on another process's drill range."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest

from cockpit.demo import PAIR, add_arguments, pair_recipe, partner_command, range_base
from cockpit.sandbox.server import SandboxError, SandboxServer, config_snippet, drill_settings


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_pair_and_range_are_exclusive_and_as_names_the_person() -> None:
    args = parse("--range", "http://127.0.0.1:8765", "--as", "bo")
    assert args.range_url == "http://127.0.0.1:8765" and args.person == "bo"
    assert parse("--pair").pair and parse().person is None
    with pytest.raises(SystemExit):
        parse("--pair", "--range", "http://127.0.0.1:8765")


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("http://127.0.0.1:8765", "http://127.0.0.1:8765"),
        ("http://127.0.0.1:8765/", "http://127.0.0.1:8765"),
        ("  http://localhost:9000 ", "http://localhost:9000"),
        ("http://[::1]:8765", "http://[::1]:8765"),
    ],
)
def test_range_base_takes_a_loopback_drill_range(url: str, base: str) -> None:
    assert range_base(url) == base


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:8765",  # the range speaks http only
        "http://10.0.0.5:8765",  # not loopback: its tokens are public
        "http://127.0.0.1:8765/api",  # the range's base, not a service's
        "127.0.0.1:8765",
        "http://127.0.0.1:99999",
    ],
)
def test_range_base_refuses_anything_else(url: str) -> None:
    with pytest.raises(SandboxError):
        range_base(url)


def test_the_partner_runs_on_the_same_range_as_the_second_person(tmp_path: Path) -> None:
    argv = partner_command("http://127.0.0.1:8765", tmp_path / "drill", {})
    assert argv[:3] == [sys.executable, "-m", "cockpit"]
    assert argv[3:] == [
        "demo",
        "--range",
        "http://127.0.0.1:8765",
        "--as",
        PAIR[1],
        "--data-dir",
        f"{tmp_path / 'drill'}-{PAIR[1]}",
    ]
    assert "--data-dir" not in partner_command("http://127.0.0.1:8765", None, {})
    recipe = pair_recipe(argv)
    assert "--range http://127.0.0.1:8765" in recipe and PAIR[0] in recipe


def test_drill_settings_point_at_the_range_as_the_server_s_own() -> None:
    with SandboxServer(port=0, scenario="quiet") as server:
        assert drill_settings(server.base_url) == server.settings()
        assert config_snippet(server.settings()) == server.config_snippet()
        assert f'api_url = "{server.base_url}/api"' in server.config_snippet()

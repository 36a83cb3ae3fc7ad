"""The `cockpit` command, run for real (python -m cockpit) on a temp data dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(
    tmp: Path, *args: str, config: str | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
    cfg = tmp / "config.toml"
    if config is not None:
        cfg.write_text(config)
    env.update(
        COCKPIT_DATA_DIR=str(tmp / "data"),
        COCKPIT_CONFIG=str(cfg),
        COCKPIT_LOG_DIR=str(tmp / "logs"),
        COCKPIT_USER="ada",
        COCKPIT_TIMEZONE="UTC",
    )
    return subprocess.run(
        [sys.executable, "-m", "cockpit", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_version_and_locate(tmp_path: Path):
    out = run(tmp_path, "--version")
    assert out.returncode == 0 and out.stdout.startswith("cockpit ")
    out = run(tmp_path, "locate")
    assert str(tmp_path / "data") in out.stdout and str(tmp_path / "config.toml") in out.stdout
    assert "defaults in use" in out.stdout


def test_raise_note_status_severity_assign_list_export(tmp_path: Path):
    out = run(
        tmp_path,
        "raise",
        "Checkout",
        "failing",
        "--severity",
        "critical",
        "--reported-at",
        "-12m",
        "--thread",
        "https://x.slack.com/archives/C1/p1",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"
    assert run(tmp_path, "note", "1", "Stripe", "timeouts", "--at", "-5m").returncode == 0
    assert run(tmp_path, "status", "1", "fixing").returncode == 0
    assert run(tmp_path, "assign", "1", "comms", "grace").returncode == 0
    assert run(tmp_path, "severity", "#1", "major").returncode == 0
    listed = run(tmp_path, "list").stdout
    assert "FIXING" in listed and "Major" in listed and "Checkout failing" in listed
    doc = json.loads(run(tmp_path, "export", "1", "--format", "json").stdout)
    texts = [e["text"] for e in doc["timeline"]]
    assert "Stripe timeouts" in texts and "REPORTED → FIXING" in texts
    assert doc["incident"]["roles"] == {"commander": "ada", "comms": "grace"}
    md = run(tmp_path, "export", "1").stdout
    assert md.startswith("# Post mortem") and "UTC" in md
    record = run(tmp_path, "export", "1", "--format", "record").stdout
    assert "## Checklist" in record


def test_refusals_are_clear_and_not_tracebacks(tmp_path: Path):
    assert run(tmp_path, "raise", "Search down").returncode == 0
    out = run(tmp_path, "status", "1", "resolved")  # refused: exit 2, as usage errors
    assert out.returncode == 2 and "cannot go from REPORTED to RESOLVED" in out.stderr
    assert "Traceback" not in out.stderr
    out = run(tmp_path, "note", "1", "too early", "--at", "-3h")
    assert out.returncode == 1 and "before the incident was first reported" in out.stderr
    out = run(tmp_path, "note", "9", "nowhere")
    assert out.returncode == 1 and "9" in out.stderr and "Traceback" not in out.stderr
    out = run(tmp_path, "status", "1", "canceled")
    assert out.returncode == 2 and "reason" in out.stderr


def test_bad_config_exits_2_naming_file_and_key(tmp_path: Path):
    out = run(tmp_path, "list", config='[support]\nwork_days = ["mon", "funday"]\n')
    assert out.returncode == 2
    assert "config.toml" in out.stderr and "support.work_days" in out.stderr
    assert "mon, tue" in out.stderr and "Traceback" not in out.stderr


def test_corrupt_store_is_named_kept_and_its_backup_offered(tmp_path: Path):
    assert run(tmp_path, "raise", "Search down").returncode == 0
    assert run(tmp_path, "note", "1", "a second write, so a backup exists").returncode == 0
    shard = tmp_path / "data" / "incidents" / "1.json"
    shard.write_bytes(b'{"incident": {"1": {"id": "1", "tit')  # cut short
    broken = shard.read_bytes()
    out = run(tmp_path, "note", "1", "after the damage")
    assert out.returncode == 1
    assert str(shard) in out.stderr and "cockpit restore-backup" in out.stderr
    assert shard.read_bytes() == broken  # never overwritten
    out = run(tmp_path, "restore-backup", str(shard))
    assert out.returncode == 0, out.stderr
    assert "restored" in out.stdout
    assert run(tmp_path, "note", "1", "after the restore").returncode == 0
    assert list(shard.parent.glob("1.json.corrupt-*"))  # the damaged file is kept


def test_templates_and_draft(tmp_path: Path):
    assert run(tmp_path, "raise", "Checkout failing", "--severity", "critical").returncode == 0
    out = run(tmp_path, "templates")
    assert "statuspage-investigating" in out.stdout and "post-mortem" in out.stdout
    out = run(tmp_path, "draft", "1", "statuspage-investigating")
    assert out.returncode == 0 and "investigating" in out.stdout.lower()
    out = run(tmp_path, "draft", "1", "no-such-template")
    assert out.returncode == 1 and "Traceback" not in out.stderr


def test_a_slack_draft_prints_as_people_read_it_or_as_sent(tmp_path: Path):
    """A title with Slack's control characters: printed (and copied) as Slack shows it,
    `--as-sent` as it goes to Slack's API, escaped."""
    assert run(tmp_path, "raise", "Latency <200ms & >100ms", "--severity", "major").returncode == 0
    out = run(tmp_path, "draft", "1", "kickoff")
    assert out.returncode == 0, out.stderr
    assert "Latency <200ms & >100ms" in out.stdout and "&lt;" not in out.stdout
    out = run(tmp_path, "draft", "1", "kickoff", "--as-sent")
    assert "Latency &lt;200ms &amp; &gt;100ms" in out.stdout


@pytest.mark.parametrize(
    "args",
    [["report"], ["report", "--format", "csv"], ["report", "--format", "json", "--since", "7d"]],
)
def test_report(tmp_path: Path, args: list[str]):
    assert run(tmp_path, "raise", "Checkout failing", "--severity", "major").returncode == 0
    out = run(tmp_path, *args)
    assert out.returncode == 0, out.stderr
    if "json" in args:
        assert json.loads(out.stdout)["total"]["reported"] == 1
    else:
        assert out.stdout.strip()


def test_a_write_error_is_a_message_and_exit_1(tmp_path: Path, monkeypatch, capsys):
    import errno

    from cockpit import cli
    from cockpit.store import storage

    for key in [k for k in os.environ if k.startswith("COCKPIT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("COCKPIT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COCKPIT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("COCKPIT_LOG_DIR", str(tmp_path / "logs"))
    assert cli.main(["raise", "Search down"]) == 0

    def full(path, raw):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage, "_write_new", full)
    assert cli.main(["note", "1", "lost?"]) == 1
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Nothing was changed" in err
    assert "Traceback" not in err


def test_exports_are_written_once_and_for_the_owner_only(tmp_path: Path):
    """`export -o` writes 0600 (even over an existing 0644 file), and the post mortem is
    the same text the app's history screen writes (one export, with the guide link)."""
    from cockpit.application.build import build_services
    from cockpit.config import load_settings

    mine = tmp_path / "templates"
    mine.mkdir()
    (mine / "post-mortem.j2").write_text(
        "{# kind: internal; title: Post mortem; target: the wiki #}\n"
        "# {{ title }}\nGuide: {{ guide_url }}\n## Timeline\n"
    )
    config = f'[templates]\nguide_url = "https://wiki.example/incidents"\ndir = "{mine}"\n'
    assert run(tmp_path, "raise", "Search down", config=config).returncode == 0
    target = tmp_path / "pm.md"
    target.write_text("old")
    target.chmod(0o644)
    out = run(tmp_path, "export", "1", "-o", str(target), config=config)
    assert out.returncode == 0, out.stderr
    assert target.stat().st_mode & 0o777 == 0o600
    text = target.read_text()
    assert "https://wiki.example/incidents" in text
    settings = load_settings(tmp_path / "config.toml", {"COCKPIT_TIMEZONE": "UTC"})
    services = build_services(settings, tmp_path / "data")
    try:
        written = services.service.write_export("1", "markdown", services.calendar)
    finally:
        services.close()
    assert written.stat().st_mode & 0o777 == 0o600
    same = written.read_text()
    assert same.split("## Timeline")[0] == text.split("## Timeline")[0]

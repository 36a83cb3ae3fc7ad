"""The bad-file corpus: every file cockpit reads, damaged or replaced in each way an attack
run found, through the real CLI (`python -m cockpit …` in a subprocess).

For every case: exit status 1 or 2, no traceback, the file named in the message, the file
(and its `.bak`) exactly as it was afterwards, and no hang (a FIFO where a file should be
must fail, not wait: each run has a timeout). Damaged store files are then restored with
`cockpit restore-backup FILE` and the store works again.

Permissions are checked as an unprivileged user (the tests run as root, which ignores file
modes): the CLI runs with the `nobody` uid. Skipped if that is impossible, failed instead
under COCKPIT_REQUIRE_TOOLS=1.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NOBODY = 65534
TIMEOUT = 30
#: Interpreters to run cockpit as `nobody` with (this venv's may sit under root's 0700
#: home): the first that works, with this venv's packages on the path.
_SAME = f"python{sys.version_info.major}.{sys.version_info.minor}"
CANDIDATES = [sys.executable, f"/usr/bin/{_SAME}", f"/usr/local/bin/{_SAME}"]
_python_for_nobody: list[str] = []
#: cockpit and this venv's packages where `nobody` can read them (the checkout and the venv
#: may sit in a directory only root can enter, as a fresh clone in a 0700 temp dir does)
_path_for_nobody: list[str] = []


def _reachable_copy(src: Path, dest: Path) -> None:
    """`src` at `dest`: hard links where they can be made (fast), else a copy."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["cp", "-al", str(src), str(dest)], capture_output=True)
    if done.returncode != 0:
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(src, dest, symlinks=True)
    for root, dirs, _files in os.walk(dest):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
    dest.chmod(0o755)


def run(
    home: Path, *args: str, config: Path | str | None = None, user: int | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COCKPIT_")}
    env.update(
        COCKPIT_DATA_DIR=str(home / "data"),
        COCKPIT_CONFIG=str(config if config is not None else home / "config.toml"),
        COCKPIT_LOG_DIR=str(home / "logs"),
        COCKPIT_USER="ada",
        COCKPIT_TIMEZONE="UTC",
        PYTHONPATH=str(REPO),
    )
    extra = {} if user is None else {"user": user, "group": user, "extra_groups": []}
    python = sys.executable
    if user is not None:
        python = _python_for_nobody[0] if _python_for_nobody else sys.executable
        env["PYTHONPATH"] = os.pathsep.join(
            _path_for_nobody or [str(REPO), sysconfig.get_paths()["purelib"]]
        )
    return subprocess.run(
        [python, "-m", "cockpit", *args],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,  # a hang (a FIFO read) fails the test
        check=False,
        **extra,  # type: ignore[arg-type]
    )


def state(path: Path) -> object:
    """What is at `path`, to compare before and after (bytes, or what it is)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(st.st_mode):
        return ("dir", sorted(os.listdir(path)))
    if stat.S_ISFIFO(st.st_mode):
        return ("fifo",)
    if not stat.S_ISREG(st.st_mode):
        return ("other", st.st_mode)
    return path.read_bytes()


def refused(out: subprocess.CompletedProcess[str], named: Path | str) -> None:
    text = out.stdout + out.stderr
    assert out.returncode in (1, 2), (out.returncode, text)
    assert "Traceback" not in text, text
    assert str(named) in out.stderr, out.stderr


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A data dir with incidents 1 and 2 (a note each), so every file has its `.bak`."""
    for title in ("Checkout failing", "Search down"):
        assert run(tmp_path, "raise", title).returncode == 0
    for n in ("1", "2"):
        out = run(tmp_path, "note", n, "looking")
        assert out.returncode == 0, out.stderr
    data = tmp_path / "data"
    assert (data / "index.json.bak").exists() and (data / "incidents" / "1.json.bak").exists()
    return tmp_path


def _doc(path: Path) -> dict[str, dict[str, dict[str, object]]]:
    doc = json.loads(path.read_text())
    assert isinstance(doc, dict)
    return doc


def index_missing_field(p: Path) -> None:
    doc = _doc(p)
    for summary in doc["incidents"].values():
        del summary["first_reported_at"]
    p.write_text(json.dumps(doc))


def index_wrong_shape(p: Path) -> None:
    p.write_text(json.dumps({"incidents": {"1": {"id": "1", "title": ["x"]}}, "meta": {}}))


def index_counter_one(p: Path) -> None:
    doc = _doc(p)
    for meta in doc["meta"].values():
        meta["last_incident_id"] = "one"
    p.write_text(json.dumps(doc))


def incident_field(key: str, value: object) -> Callable[[Path], None]:
    def damage(p: Path) -> None:
        doc = _doc(p)
        incident = next(iter(doc["incident"].values()))
        if value is _DELETE:
            del incident[key]
        else:
            incident[key] = value
        p.write_text(json.dumps(doc))

    damage.__name__ = f"incident_{key}"
    return damage


_DELETE = object()


def junk_entry(p: Path) -> None:
    doc = _doc(p)
    doc["timeline"]["99"] = {"junk": True}
    p.write_text(json.dumps(doc))


def raw_text(text: str) -> Callable[[Path], None]:
    def damage(p: Path) -> None:
        p.write_text(text)

    return damage


def out_of_range_float(p: Path) -> None:
    text = p.read_text()
    p.write_text(text.replace('"drill":false', '"drill":1e999', 1))
    assert "1e999" in p.read_text()


def nan_in_entry(p: Path) -> None:
    doc = _doc(p)
    next(iter(doc["timeline"].values()))["author"] = "@@NAN@@"
    p.write_text(json.dumps(doc).replace('"@@NAN@@"', "NaN"))


def nested(depth: int) -> Callable[[Path], None]:
    return raw_text('{"incidents": ' + "[" * depth + "]" * depth + "}")


def to_directory(p: Path) -> None:
    p.unlink()
    p.mkdir()
    (p / "inside").write_text("x")


def to_fifo(p: Path) -> None:
    p.unlink()
    os.mkfifo(p)


INDEX_CASES = [
    index_missing_field,
    index_wrong_shape,
    index_counter_one,
    nested(200_000),
    nested(100),
    to_fifo,
    to_directory,
]
INCIDENT_CASES = [
    incident_field("first_reported_at", _DELETE),
    incident_field("status", "exploded"),
    incident_field("created_at", "2026-13-01T00:00:00+00:00"),
    incident_field("severity", "apocalyptic"),
    incident_field("id", "7"),
    junk_entry,
    out_of_range_float,
    nan_in_entry,
    nested(200_000),
    to_directory,
    to_fifo,
]


def check_store_case(home: Path, target: Path, damage: Callable[[Path], None], *cmds: str) -> None:
    bak = target.with_name(target.name + ".bak")
    bak_before = state(bak)
    damage(target)
    before = state(target)
    for cmd in cmds:
        out = run(home, *cmd.split())
        refused(out, target)
        assert state(target) == before, f"{cmd}: {target} changed"
        assert state(bak) == bak_before, f"{cmd}: {bak} changed"
    out = run(home, "restore-backup", str(target))
    assert out.returncode == 0, out.stdout + out.stderr
    assert state(bak) == bak_before
    assert list(target.parent.glob(target.name + ".corrupt-*")), "the damaged file is kept"
    out = run(home, *cmds[-1].split())
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("damage", INDEX_CASES, ids=lambda f: f.__name__)
def test_a_bad_index(home: Path, damage: Callable[[Path], None]) -> None:
    check_store_case(home, home / "data" / "index.json", damage, "list", "raise Another one")


@pytest.mark.parametrize("damage", INCIDENT_CASES, ids=lambda f: f.__name__)
def test_a_bad_incident_file(home: Path, damage: Callable[[Path], None]) -> None:
    target = home / "data" / "incidents" / "1.json"
    check_store_case(home, target, damage, "export 1", "note 1 more", "status 1 fixing")


@pytest.mark.parametrize("name", ["index.json.lock", "incidents/1.json.lock"])
def test_a_lock_file_replaced_by_a_directory(home: Path, name: str) -> None:
    lock = home / "data" / name
    lock.unlink(missing_ok=True)
    lock.mkdir()
    data_file = lock.with_name(lock.name[: -len(".lock")])
    before, bak = state(data_file), state(data_file.with_name(data_file.name + ".bak"))
    command = "raise Another" if name == "index.json.lock" else "note 1 more"
    refused(run(home, *command.split()), lock)
    assert state(data_file) == before
    assert state(data_file.with_name(data_file.name + ".bak")) == bak
    assert state(lock) == ("dir", [])


# -- config, playbook, scenario --------------------------------------------------------
def test_dev_zero_as_the_config(tmp_path: Path) -> None:
    refused(run(tmp_path, "list", config="/dev/zero"), "/dev/zero")


def test_a_fifo_as_the_config(tmp_path: Path) -> None:
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    refused(run(tmp_path, "list", config=fifo), fifo)
    assert state(fifo) == ("fifo",)


def test_a_directory_as_the_config(tmp_path: Path) -> None:
    (tmp_path / "config.toml").mkdir()
    refused(run(tmp_path, "list"), tmp_path / "config.toml")


def test_deeply_nested_config(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text("x = " + "[" * 200_000 + "]" * 200_000 + "\n")
    refused(run(tmp_path, "list"), cfg)
    cfg.write_text("x = " + "[" * 100 + "]" * 100 + "\n")
    refused(run(tmp_path, "list"), cfg)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "deep"])
def test_a_bad_playbook_file(tmp_path: Path, kind: str) -> None:
    playbook = tmp_path / "playbook.toml"
    if kind == "fifo":
        os.mkfifo(playbook)
    elif kind == "deep":
        playbook.write_text("x = " + "[" * 200_000 + "]" * 200_000 + "\n")
    else:
        playbook = Path("/dev/zero")
    (tmp_path / "config.toml").write_text(f'[playbook]\npath = "{playbook}"\n')
    before = state(playbook)
    refused(run(tmp_path, "raise", "Checkout failing"), playbook)
    assert state(playbook) == before


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "directory"])
def test_a_bad_scenario(tmp_path: Path, kind: str) -> None:
    scenario = tmp_path / "s.toml"
    if kind == "fifo":
        os.mkfifo(scenario)
    elif kind == "directory":
        scenario.mkdir()
    else:
        scenario = Path("/dev/zero")
    refused(run(tmp_path, "sandbox", "--port", "0", "--scenario", str(scenario)), scenario)


# -- permissions, as an unprivileged user ---------------------------------------------
@pytest.fixture
def nobody_home() -> Iterator[Path]:
    """A home the `nobody` user can reach (pytest's tmp dirs are root's, 0700)."""
    if os.getuid() != 0:
        if os.environ.get("COCKPIT_REQUIRE_TOOLS") == "1":
            pytest.fail("permission tests need root (to run the CLI as the nobody user)")
        pytest.skip("permission tests need root (to run the CLI as the nobody user)")
    top = Path(tempfile.mkdtemp(prefix="cockpit-nobody-"))
    top.chmod(0o755)
    _reachable_copy(REPO / "cockpit", top / "src" / "cockpit")
    _reachable_copy(Path(sysconfig.get_paths()["purelib"]), top / "site")
    _path_for_nobody[:] = [str(top / "src"), str(top / "site")]
    home = top / "home"
    home.mkdir()
    os.chown(home, NOBODY, NOBODY)
    problems = []
    for python in dict.fromkeys(CANDIDATES):
        _python_for_nobody[:] = [python]
        try:
            probe = run(home, "--version", user=NOBODY)
        except OSError as e:
            problems.append(f"{python}: {e}")
            continue
        if probe.returncode == 0:
            break
        problems.append(f"{python}: {probe.stderr.strip()[-200:]}")
    else:
        _path_for_nobody.clear()
        shutil.rmtree(top)
        why = f"cannot run cockpit as uid {NOBODY}: {'; '.join(problems)}"
        if os.environ.get("COCKPIT_REQUIRE_TOOLS") == "1":
            pytest.fail(why)
        pytest.skip(why)
    try:
        yield home
    finally:
        _path_for_nobody.clear()
        shutil.rmtree(top)


def test_mode_000_files_as_a_normal_user(nobody_home: Path) -> None:
    home = nobody_home
    assert run(home, "raise", "Checkout failing", user=NOBODY).returncode == 0
    index = home / "data" / "index.json"
    index.chmod(0o000)
    before = state(index)
    for command in ("list", "raise Another"):
        out = run(home, *command.split(), user=NOBODY)
        refused(out, index)
        assert "permission denied" in out.stderr
    assert state(index) == before and stat.S_IMODE(index.stat().st_mode) == 0
    index.chmod(0o600)
    shard = home / "data" / "incidents" / "1.json"
    shard.chmod(0o000)
    refused(run(home, "note", "1", "more", user=NOBODY), shard)
    shard.chmod(0o600)
    cfg = home / "config.toml"
    cfg.write_text('[ui]\ntheme = "cockpit-dark"\n')
    os.chown(cfg, NOBODY, NOBODY)
    cfg.chmod(0o000)
    refused(run(home, "list", user=NOBODY), cfg)


def test_a_data_dir_others_can_write_is_warned_about(nobody_home: Path) -> None:
    home = nobody_home
    data = home / "data"
    data.mkdir(mode=0o777)
    data.chmod(0o777)  # root's, open to everyone: someone else could replace the files
    out = run(home, "raise", "Checkout failing", user=NOBODY)
    assert out.returncode == 0, out.stderr
    assert "warning" in out.stderr and str(data) in out.stderr and "writable" in out.stderr
    # group-writable, and not ours: warned too
    data.chmod(0o775)
    os.chown(data, 0, NOBODY)
    out = run(home, "list", user=NOBODY)
    assert "warning" in out.stderr and "its group" in out.stderr


def test_a_private_data_dir_gives_no_warning(tmp_path: Path) -> None:
    out = run(tmp_path, "raise", "Checkout failing")
    assert out.returncode == 0 and "warning" not in out.stderr

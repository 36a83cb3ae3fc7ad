"""Safe under any keystroke: a model-based test. Random steps (every key of the live
bindings, navigation, escape/enter/tab, short typed strings including a hostile one with
escape codes) drive the real app against the drill range; after every step the app must
not have crashed or said "Something went wrong", nothing may have been queued for a
remote system unless that step confirmed a dialog, nothing may reach the drill range that
changes something unless the outbox has it, and the header and the checklist must agree
with the store. See tests/ui/mbt.py for the model and the checks.

A failing seed prints its findings, the exact key sequence, and the one command that
replays it, e.g.:

    COCKPIT_MBT_SEED=17 .venv/bin/python -m pytest tests/ui/test_model_based.py -k replay -s

(`COCKPIT_MBT_STEPS` sets the length, 300 by default; `COCKPIT_MBT_KEYS` replays a
sequence given as a Python list literal, e.g. a shortened one.)

Sizes: CI runs 50 seeds × 300 steps (`CI_SEEDS` of them unmarked, the rest marked slow;
`pytest` runs both, `-m "not slow"` the first part only: about 110 s each here); the long
run, 500 seeds × 300 more, runs with COCKPIT_MBT_LONG=1 (about 40 minutes).
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from . import mbt

STEPS = 300
CI_SEEDS = 24  # × 300 steps ≈ 120 s here (about 5 s a seed: start-up and ~15-25 ms a step)
FULL_SEEDS = 50
SLOW_SEEDS = 500


async def check_seed(tmp_path: Path, seed: int, steps: int = STEPS) -> None:
    run = await mbt.run_seed(tmp_path, seed, steps)
    assert not run.unknown, run.report()
    known = sorted({f.known for f in run.findings if f.known})
    if known:  # each has its own strict xfail below: this seed is visible, not hidden
        pytest.xfail(f"known bug(s) {known}; the rest held\n{run.report()}")
    assert run.done == steps, run.report()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("seed", range(CI_SEEDS))
async def test_safe_under_any_keystroke(tmp_path: Path, seed: int):
    await check_seed(tmp_path, seed)


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.parametrize("seed", range(CI_SEEDS, FULL_SEEDS))
async def test_safe_under_any_keystroke_full(tmp_path: Path, seed: int):
    """The rest of the 50 × 300 run (in CI too: about 110 s more)."""
    await check_seed(tmp_path, seed)


@pytest.mark.slow
@pytest.mark.skipif(
    "COCKPIT_MBT_LONG" not in os.environ,
    reason="the long run (500 seeds, about 40 minutes; COCKPIT_MBT_SHARD=K/N splits it): "
    "COCKPIT_MBT_LONG=1 python -m pytest tests/ui/test_model_based.py -k long",
)
@pytest.mark.timeout(180)
@pytest.mark.parametrize("seed", range(1000, 1000 + SLOW_SEEDS))
async def test_safe_under_any_keystroke_long(tmp_path: Path, seed: int):
    """COCKPIT_MBT_SHARD=K/N runs every N-th seed from the K-th (0-based): one process a
    core, e.g. 0/2 and 1/2 side by side."""
    shard = os.environ.get("COCKPIT_MBT_SHARD")
    if shard:
        k, n = (int(x) for x in shard.split("/"))
        if seed % n != k:
            pytest.skip(f"seed {seed} is not in shard {shard}")
    await check_seed(tmp_path, seed)


@pytest.mark.skipif("COCKPIT_MBT_SEED" not in os.environ, reason="set COCKPIT_MBT_SEED")
@pytest.mark.timeout(600)
async def test_replay(tmp_path: Path):
    """One seed (or a given sequence), each step printed as it is pressed, every finding
    reported rather than stopping at the first."""
    seed = int(os.environ["COCKPIT_MBT_SEED"])
    steps = int(os.environ.get("COCKPIT_MBT_STEPS", STEPS))
    given = (
        ast.literal_eval(os.environ["COCKPIT_MBT_KEYS"])
        if "COCKPIT_MBT_KEYS" in os.environ
        else None
    )
    run = await mbt.run_seed(
        tmp_path,
        seed,
        steps,
        stop_at_first=False,
        on_step=lambda i, step: print(f"{i:4} {step!r}"),
        given=given,
    )
    print(run.report())
    assert not run.findings, run.report()


async def test_palette_page_key_right_after_opening(tmp_path: Path):
    """Found by seeds 4 and 8: pageup/pagedown in the command palette before its list is
    laid out (keys arriving together, typed fast) ended the app with KeyError 0 in
    Textual's OptionList._move_page; cockpit/ui/fixes.py guards it."""
    for n, key in enumerate(("pagedown", "pageup")):
        run = await mbt.run_seed(tmp_path / str(n), 0, 0, given=["ctrl+p", key])
        assert not run.findings, run.report()


def test_the_alphabet_and_a_sequence_replay_exactly():
    """A seed names one sequence: the same keys every time, drawn from the bindings."""
    keys = ["R", "S", "ctrl+q", "x"]
    assert mbt.sequence(17, 300, keys) == mbt.sequence(17, 300, keys)
    assert mbt.sequence(17, 300, keys) != mbt.sequence(18, 300, keys)
    assert mbt.keys_of("type:-12m") == ["-", "1", "2", "m"]

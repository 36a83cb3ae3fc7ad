"""The trimmed specs in tests/specs: current, small, enough for what the tests and the
sandbox use, and patched by tests/spec_check.py exactly as the full specs are."""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from cockpit.sandbox import jira_api, slack_api, statuspage_api
from tests import spec_check
from tests.specs import extract

OUT = extract.HERE


def full_specs() -> Path:
    """The full specs, or a skip: without them there is nothing to compare the extract with
    (a clone with nothing beside it, CI included, checks against the extract itself)."""
    env = os.environ.get(spec_check.SPECS_ENV)
    for candidate in ([Path(env).expanduser()] if env else []) + [spec_check.FULL_SPECS]:
        if extract.is_full_specs(candidate):
            return candidate
    pytest.skip(
        f"the full specs are not in {spec_check.FULL_SPECS}: the extract cannot be compared"
    )


def committed(relative: str) -> Any:
    return json.loads((OUT / relative).read_bytes())


def test_the_committed_extract_is_current():
    problems = extract.differences(full_specs(), OUT)
    assert not problems, (
        "tests/specs is not what the full specs give; run `python tests/specs/extract.py`:\n  "
        + "\n  ".join(problems)
    )


def test_a_changed_extract_is_noticed(tmp_path):
    src = full_specs()
    extract.write(src, tmp_path)
    assert extract.differences(src, tmp_path) == []
    jira = tmp_path / extract.JIRA
    jira.write_bytes(jira.read_bytes().replace(b'"Comment":{', b'"Comment":{"type":"object",'))
    (tmp_path / "slack" / "stray.json").write_text("{}")
    (tmp_path / extract.ADF).unlink()
    assert extract.differences(src, tmp_path) == [
        f"{extract.ADF}: missing",
        f"{extract.JIRA}: differs",
        "slack/stray.json: not part of the extract",
    ]


def test_the_extract_is_small():
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    assert total < 2_000_000, f"tests/specs holds {total:,} B"


def _paths(relative: str) -> list[str]:
    return list(committed(relative)["paths"])


def _sample(pattern: str) -> str:
    """A request path the sandbox's route regex matches, with `{x}` for each group."""
    return re.sub(r"\([^)]*\)", "{x}", pattern.pattern.strip("^$"))


def test_the_extract_covers_what_the_sandbox_serves():
    slack = _paths(extract.SLACK)
    ref_dir = OUT / extract.SLACK_REF_DIR
    for method in slack_api.METHODS:
        assert method in extract.SLACK_METHODS
        assert "/" + method in slack or (ref_dir / f"{method}.json").is_file(), method
    jira = _paths(extract.JIRA)
    for _, pattern, name in jira_api._ROUTES:
        path = "/rest/api/3" + _sample(pattern)
        assert any(extract.overlaps(path, t) for t in extract.JIRA_PATHS), (name, path)
        assert any(extract.overlaps(path, t) for t in jira), (name, path)
    statuspage = _paths(extract.STATUSPAGE)
    for _, pattern, name in statuspage_api._ROUTES:
        path = "/pages/{page_id}" + _sample(pattern)
        assert any(extract.overlaps(path, t) for t in extract.STATUSPAGE_PATHS), (name, path)
        assert any(extract.overlaps(path, t) for t in statuspage), (name, path)


def test_every_ref_in_the_extract_resolves():
    for relative in (extract.SLACK, extract.JIRA, extract.STATUSPAGE, extract.ADF):
        doc = committed(relative)
        for ref in extract._refs(doc):
            extract._resolve(doc, extract._pointer(ref))


@pytest.mark.parametrize(
    ("relative", "patch", "parts"),
    [
        (extract.SLACK, spec_check._patch_slack, ("paths", "definitions")),
        (extract.JIRA, spec_check._patch_jira, ("paths", "components")),
        (extract.STATUSPAGE, spec_check._patch_statuspage, ("paths", "components")),
        (extract.ADF, spec_check._patch_adf, ("definitions",)),
    ],
)
def test_the_patched_extract_is_the_patched_full_spec_cut_down(relative, patch, parts):
    """Patching then trimming is trimming then patching: every kept part, patched in memory,
    is exactly that part of the patched full spec."""
    full = patch(json.loads((full_specs() / relative).read_bytes()))
    trimmed = patch(copy.deepcopy(committed(relative)))
    for part in parts:
        for name, value in trimmed[part].items():
            if isinstance(value, dict) and part == "components":
                for key, sub in value.items():
                    assert sub == full[part][name][key], f"{relative}: {part}/{name}/{key}"
            else:
                assert value == full[part][name], f"{relative}: {part}/{name}"
    for key in trimmed:
        if key not in parts:
            assert trimmed[key] == full[key], f"{relative}: {key}"

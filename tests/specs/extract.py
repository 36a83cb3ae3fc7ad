"""Write the trimmed copy of the vendor API specs that the tests use, into tests/specs/.

The full specs live in `shared/specs/` beside the checkout (see SOURCES.md there). A clone
that has nothing beside it checks against this extract instead (tests/spec_check.py picks
the full specs when they are there). The extract holds only what the tests use:

- Slack: the Web API methods in SLACK_METHODS (their whole path items from the OpenAPI
  file, the `definitions` they reach, and their docs.slack.dev method files);
- Jira v3 and Statuspage: the paths in JIRA_PATHS / STATUSPAGE_PATHS, plus every other path
  a request to one of them could also match (so openapi-core picks the same operation as
  with the full spec), with the components they reach;
- the ADF JSON Schema, whole.

Kept parts are copied unchanged (only re-serialised as compact JSON): every `$ref` they need
is kept, and no known defect is fixed here (tests/spec_check.py patches them in memory).
Extending what the tests use? Add it to the lists below and run this again; the test
tests/unit/test_spec_extract.py fails while the committed extract is out of date.

usage: python tests/specs/extract.py [SPECS_DIR] [--out DIR] [--check]
    SPECS_DIR   the full specs (default: $COCKPIT_SPECS_DIR, else <checkout>/../shared/specs)
    --out DIR   where to write (default: this file's directory)
    --check     write nothing; exit 1 if the extract in DIR is not what SPECS_DIR gives
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SPECS_ENV = "COCKPIT_SPECS_DIR"
DEFAULT_SOURCE = HERE.parents[2] / "shared" / "specs"

SLACK = "slack/slack_web_openapi_v2.json"
SLACK_REF_DIR = "slack/slack-api-ref/docs.slack.dev/methods"
JIRA = "jira/swagger-v3.v3.json"
STATUSPAGE = "statuspage/statuspage-openapi3.json"
ADF = "adf/full.json"
# Copied byte for byte: the MIT licences ask for their notice to travel with the content.
LICENCES = ("slack/LICENSE.slack-api-specs", "slack/slack-api-ref/LICENSE.md")

# What the clients call, the fakes and the sandbox answer, and tests/spec_check.py and its
# tests look up (cockpit/sandbox/slack_api.py METHODS, jira_api.py and statuspage_api.py
# _ROUTES; tests/unit/test_spec_extract.py checks the sandbox's lists are covered).
SLACK_METHODS = (
    "apps.connections.open",
    "auth.test",
    "bots.info",
    "chat.delete",
    "chat.getPermalink",
    "chat.postMessage",
    "chat.update",
    "conversations.create",
    "conversations.history",
    "conversations.info",
    "conversations.invite",
    "conversations.join",
    "conversations.list",
    "conversations.replies",
    "conversations.setTopic",
    "usergroups.list",
    "users.conversations",
    "users.info",
    "users.list",
)
JIRA_PATHS = (
    "/rest/api/3/field",
    "/rest/api/3/issue",
    "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes",
    "/rest/api/3/issue/createmeta/{projectIdOrKey}/issuetypes/{issueTypeId}",
    "/rest/api/3/issue/{issueIdOrKey}",
    "/rest/api/3/issue/{issueIdOrKey}/assignee",
    "/rest/api/3/issue/{issueIdOrKey}/comment",
    "/rest/api/3/issue/{issueIdOrKey}/properties",
    "/rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}",
    "/rest/api/3/issue/{issueIdOrKey}/remotelink",
    "/rest/api/3/issue/{issueIdOrKey}/transitions",
    "/rest/api/3/issue/{issueIdOrKey}/changelog",
    "/rest/api/3/issueLink",
    "/rest/api/3/issueLinkType",
    "/rest/api/3/issuetype",
    "/rest/api/3/myself",
    "/rest/api/3/priority",
    "/rest/api/3/project/{projectIdOrKey}",
    "/rest/api/3/resolution",
    "/rest/api/3/search/jql",
    "/rest/api/3/serverInfo",
    "/rest/api/3/user/search",
)
STATUSPAGE_PATHS = (
    "/pages/{page_id}",
    "/pages/{page_id}/components",
    "/pages/{page_id}/components/{component_id}",
    "/pages/{page_id}/incidents",
    "/pages/{page_id}/incidents/unresolved",
    "/pages/{page_id}/incidents/{incident_id}",
)
# Parts the in-memory patches of tests/spec_check.py edit (kept even if nothing kept
# refers to them, so a patch never fails on the extract alone).
SLACK_PATCHED = ("objs_message", "objs_response_metadata")
JIRA_PATCHED = ("Comment", "SearchAndReconcileResults")
STATUSPAGE_PATCHED = (
    "Incident",
    "IncidentUpdate",
    "Component",
    "Page",
    "postPagesPageIdIncidents",
    "patchPagesPageIdIncidents",
)
# Top-level prose with no part in validation.
DROPPED_TOP_LEVEL = ("tags", "x-atlassian-narrative")

Pointer = tuple[str, ...]


class ExtractError(Exception):
    """The source is not the full specs, or lacks something the tests use."""


# -- sources ----------------------------------------------------------------------------------
def is_full_specs(path: Path) -> bool:
    return (path / "SOURCES.md").is_file() and (path / SLACK).is_file()


def default_source() -> Path:
    env = os.environ.get(SPECS_ENV)
    return Path(env).expanduser() if env else DEFAULT_SOURCE


def _read_json(src: Path, relative: str) -> Any:
    try:
        return json.loads((src / relative).read_bytes())
    except FileNotFoundError:
        raise ExtractError(f"{src / relative} is missing") from None


def _dump(doc: Any) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


# -- trimming an API description ----------------------------------------------------------------
def _is_param(segment: str) -> bool:
    return "{" in segment


def overlaps(a: str, b: str) -> bool:
    """Whether one request path could match both path templates `a` and `b`."""
    sa, sb = a.strip("/").split("/"), b.strip("/").split("/")
    return len(sa) == len(sb) and all(
        x == y or _is_param(x) or _is_param(y) for x, y in zip(sa, sb, strict=True)
    )


def kept_paths(all_paths: Iterable[str], wanted: Iterable[str]) -> list[str]:
    """`wanted` plus every path template a request to one of them could also match, in
    the source's order. openapi-core tries literal paths first, then templates with the
    fewest variables, and skips paths without the request's method: keeping every rival
    makes it choose as it would with the full spec."""
    wanted = list(wanted)
    names = list(all_paths)
    missing = [p for p in wanted if p not in names]
    if missing:
        raise ExtractError(f"paths not in the source: {missing}")
    return [p for p in names if any(overlaps(p, w) for w in wanted)]


def _pointer(ref: str) -> Pointer:
    if not ref.startswith("#/"):
        raise ExtractError(f"only local $refs are handled, not {ref!r}")
    return tuple(p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/"))


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        mapping = node.get("mapping")  # an OpenAPI discriminator's mapping names schemas
        if isinstance(node.get("propertyName"), str) and isinstance(mapping, dict):
            yield from (v for v in mapping.values() if isinstance(v, str) and v.startswith("#/"))
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolve(doc: Any, pointer: Pointer) -> Any:
    node = doc
    for part in pointer:
        try:
            node = node[int(part)] if isinstance(node, list) else node[part]
        except (KeyError, IndexError, ValueError):
            raise ExtractError(f"dangling $ref #/{'/'.join(pointer)}") from None
    return node


def _covered(pointer: Pointer, keep: set[Pointer]) -> bool:
    return any(pointer[:i] in keep for i in range(1, len(pointer) + 1))


def trim(doc: dict[str, Any], paths: Iterable[str], also: Iterable[Pointer] = ()) -> dict[str, Any]:
    """`doc` with only `paths` (whole path items) and the parts their `$ref`s reach.

    Every top-level key but `paths`, `definitions`, `components` and DROPPED_TOP_LEVEL is
    kept whole, and so are `components.securitySchemes` (named, not `$ref`ed, by `security`).
    """
    keep: set[Pointer] = {("paths", p) for p in paths}
    keep |= {(k,) for k in doc if k not in ("paths", "definitions", "components")}
    keep -= {(k,) for k in DROPPED_TOP_LEVEL}
    if "securitySchemes" in doc.get("components", {}):
        keep.add(("components", "securitySchemes"))
    keep |= set(also)
    todo = list(keep)
    while todo:
        pointer = todo.pop()
        for ref in _refs(_resolve(doc, pointer)):
            target = _pointer(ref)
            if _covered(target, keep):
                continue
            if target[0] == "paths":
                raise ExtractError(f"a kept part refers into a path not kept: {ref}")
            _resolve(doc, target)
            keep.add(target)
            todo.append(target)
    return _select(doc, keep, ())


def _select(node: Any, keep: set[Pointer], at: Pointer) -> Any:
    if at in keep:
        return node
    out = {}
    for key, value in node.items():
        here = (*at, key)
        if here in keep or any(p[: len(here)] == here for p in keep):
            out[key] = _select(value, keep, here)
    return out


# -- the extract ----------------------------------------------------------------------------------
def slack_ref_files(src: Path) -> list[str]:
    """The docs.slack.dev method files of SLACK_METHODS that exist in `src`."""
    return [
        f"{SLACK_REF_DIR}/{m}.json"
        for m in SLACK_METHODS
        if (src / SLACK_REF_DIR / f"{m}.json").is_file()
    ]


def extract(src: Path) -> dict[str, bytes]:
    """The extract's files (relative path -> content), built from the full specs in `src`."""
    if not is_full_specs(src):
        raise ExtractError(f"{src} does not hold the full specs (no SOURCES.md and {SLACK})")
    files: dict[str, bytes] = {}

    slack = _read_json(src, SLACK)
    missing = [m for m in SLACK_METHODS if "/" + m not in slack["paths"]]
    # Methods newer than the 2020 OpenAPI file exist only in the docs.slack.dev data.
    missing = [m for m in missing if not (src / SLACK_REF_DIR / f"{m}.json").is_file()]
    if missing:
        raise ExtractError(f"Slack methods in neither source: {missing}")
    methods = ["/" + m for m in SLACK_METHODS if "/" + m in slack["paths"]]
    slack_paths = [p for p in slack["paths"] if p in methods]  # the source's order
    files[SLACK] = _dump(trim(slack, slack_paths, [("definitions", d) for d in SLACK_PATCHED]))
    for relative in slack_ref_files(src):
        files[relative] = _dump(_read_json(src, relative))

    jira = _read_json(src, JIRA)
    also = [("components", "schemas", s) for s in JIRA_PATCHED]
    files[JIRA] = _dump(trim(jira, kept_paths(jira["paths"], JIRA_PATHS), also))

    sp = _read_json(src, STATUSPAGE)
    also = [("components", "schemas", s) for s in STATUSPAGE_PATCHED]
    files[STATUSPAGE] = _dump(trim(sp, kept_paths(sp["paths"], STATUSPAGE_PATHS), also))

    files[ADF] = _dump(_read_json(src, ADF))
    for relative in LICENCES:
        files[relative] = (src / relative).read_bytes()
    return dict(sorted(files.items()))


def source_files(src: Path) -> list[str]:
    """The source files the extract is made from (relative to `src`)."""
    return sorted({SLACK, JIRA, STATUSPAGE, ADF, *LICENCES, *slack_ref_files(src)})


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sources_rows(src: Path) -> list[str]:
    """The lines of SOURCES.md that give the provenance of the files used."""
    lines = (src / "SOURCES.md").read_text().splitlines()
    wanted = (f"`{SLACK}`", f"`{SLACK_REF_DIR}/*.json`", f"`{JIRA}`", f"`{STATUSPAGE}`", f"`{ADF}`")
    collected = [line for line in lines if line.startswith("Collected ")]
    table = [line for line in lines if line.startswith("|")][:2]  # the header and its rule
    table += [line for line in lines if line.startswith("| ") and line[2:].startswith(wanted)]
    return [*collected, "", *table]


def provenance(src: Path, files: dict[str, bytes], when: str) -> str:
    """PROVENANCE.md for the extract `files` made from `src` on `when` (YYYY-MM-DD)."""
    jira_paths = kept_paths(_read_json(src, JIRA)["paths"], JIRA_PATHS)
    sp_paths = kept_paths(_read_json(src, STATUSPAGE)["paths"], STATUSPAGE_PATHS)
    out = [
        "# Trimmed vendor API specs for the tests: provenance",
        "",
        "Generated by `tests/specs/extract.py`; do not edit by hand. The tests check against",
        "the full specs in `shared/specs/` beside the checkout when they are there, else",
        "against this extract (tests/spec_check.py). `tests/unit/test_spec_extract.py` fails",
        "when this extract is not what the full specs give.",
        "",
        f"Extracted {when} by `python tests/specs/extract.py`, from the full specs in",
        "`../shared/specs` (a read-only copy, collected as their SOURCES.md says).",
        "",
        "## What is kept, and how",
        "",
        f"- Slack, `{SLACK}`: the path items of the methods below, whole, the",
        "  `definitions` their `$ref`s reach, and the definitions tests/spec_check.py patches",
        f"  ({', '.join(SLACK_PATCHED)}). From `{SLACK_REF_DIR}/`: the same",
        "  methods' files.",
        f"- Jira, `{JIRA}`, and Statuspage, `{STATUSPAGE}`:",
        "  the path items below, whole: the paths the tests use, and every other path a",
        '  request to one of them could also match ("a rival"; kept so that openapi-core',
        "  chooses the same operation as with the full spec); the `components` their `$ref`s reach",
        "  (discriminator mappings included); all `securitySchemes`; the schemas",
        "  tests/spec_check.py patches",
        f"  ({', '.join(JIRA_PATCHED + STATUSPAGE_PATCHED)}).",
        f"- ADF, `{ADF}`: whole.",
        f"- Other top-level keys are kept whole, except {', '.join(DROPPED_TOP_LEVEL)} (prose).",
        "- Kept parts are unchanged, only re-serialised as compact JSON (key order kept, UTF-8):",
        "  no defect is fixed here (the tests patch the known ones in memory). The licence",
        "  files are copied byte for byte.",
        "",
        "Slack methods:",
        "",
        *(f"- `{m}`" for m in SLACK_METHODS),
        "",
        "Jira paths:",
        "",
        *(f"- `{p}`" + ("" if p in JIRA_PATHS else " (a rival)") for p in jira_paths),
        "",
        "Statuspage paths:",
        "",
        *(f"- `{p}`" + ("" if p in STATUSPAGE_PATHS else " (a rival)") for p in sp_paths),
        "",
        "## Provenance of the sources (the lines of shared/specs/SOURCES.md about them)",
        "",
        *_sources_rows(src),
        "",
        "Licences: Slack's OpenAPI file and the docs.slack.dev data are MIT (their notices are",
        "copied here); the Jira spec says Apache 2.0 in `info.license` (Atlassian developer",
        "terms apply); the ADF schema is Apache-2.0 (`@atlaskit/adf-schema` package.json);",
        "the Statuspage spec has no licence field (Atlassian content).",
        "",
        "## SHA-256 of the sources",
        "",
        "```",
        f"{_sha256(src / 'SOURCES.md')}  SOURCES.md",
        *(f"{_sha256(src / r)}  {r}" for r in source_files(src)),
        "```",
        "",
        "## The extract",
        "",
        "```",
        *(f"{len(data):>9,} B  {name}" for name, data in files.items()),
        f"{sum(len(d) for d in files.values()):>9,} B  in all",
        "```",
        "",
    ]
    return "\n".join(out)


def committed_date(out: Path) -> str | None:
    """The extraction date PROVENANCE.md in `out` gives, if any."""
    try:
        text = (out / "PROVENANCE.md").read_text()
    except FileNotFoundError:
        return None
    for line in text.splitlines():
        if line.startswith("Extracted "):
            return line.split()[1]
    return None


def differences(src: Path, out: Path) -> list[str]:
    """How the extract in `out` differs from what `src` gives (empty when it is current)."""
    files = extract(src)
    problems = []
    for name, data in files.items():
        path = out / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif path.read_bytes() != data:
            problems.append(f"{name}: differs")
    extra = {
        p.relative_to(out).as_posix()
        for p in out.rglob("*.json")
        if p.is_file() and not p.name.startswith(".")
    } - set(files)
    problems += [f"{name}: not part of the extract" for name in sorted(extra)]
    when = committed_date(out)
    if when is None:
        problems.append("PROVENANCE.md: missing, or without its 'Extracted <date>' line")
    elif (out / "PROVENANCE.md").read_text() != provenance(src, files, when):
        problems.append("PROVENANCE.md: differs")
    return problems


def write(src: Path, out: Path) -> dict[str, bytes]:
    files = extract(src)
    for name, data in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    when = dt.datetime.now(dt.UTC).date().isoformat()
    (out / "PROVENANCE.md").write_text(provenance(src, files, when))
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("specs", nargs="?", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    src = (args.specs or default_source()).resolve()
    try:
        if args.check:
            problems = differences(src, args.out)
            for problem in problems:
                print(problem, file=sys.stderr)
            return 1 if problems else 0
        files = write(src, args.out)
    except ExtractError as e:
        print(f"extract: {e}", file=sys.stderr)
        return 2
    total = sum(len(d) for d in files.values())
    print(f"wrote {len(files)} files ({total:,} B) and PROVENANCE.md to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

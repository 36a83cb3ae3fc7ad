"""Check what the clients send, and what fakes answer, against the vendors' published specs.

Where the specs are: `$COCKPIT_SPECS_DIR` when set (the full specs, or an extract); else
the full specs in `shared/specs/` beside the repository checkout (see SOURCES.md there);
else the trimmed extract committed in `tests/specs/` (tests/specs/extract.py writes it
from the full specs, PROVENANCE.md says from what; tests/unit/test_spec_extract.py fails
when it is out of date). Both are laid out alike. They are loaded once per test session and
patched in memory (never on disk) for their known defects: one `_patch_*` function per
spec, each patch with a comment saying what is wrong in the published file.

No specs at all: tests/conftest.py skips the tests that need them, saying why, before
they run (they FAIL instead under COCKPIT_REQUIRE_TOOLS=1, as in CI). A
`$COCKPIT_SPECS_DIR` that holds no specs is a mistake, never a skip: the checks fail.

Public API (keep it small; other test files use it):

    SpecViolation                 AssertionError raised on any mismatch
    SpecsUnavailable              SpecViolation: neither the full specs nor the extract
    specs_dir() -> Path           where the specs are
    spec_source() -> SpecSource   the same, and whether it is the trimmed extract
    check_slack(request, response=None)       an httpx exchange with the Slack Web API
    check_slack_call(method, args, response_json=None, *, http_method=None,
                     json_body=None)          the same, from plain values
    check_jira(request, response=None)        Jira Cloud REST v3 (openapi-core + ADF)
    check_statuspage(request, response=None)  Statuspage REST (openapi-core)
    check_adf(doc)                            an Atlassian Document Format document
    checked_transport(service, handler) -> CheckedTransport
        an httpx.MockTransport whose every request (before the handler runs) and every
        response is checked; `service` is "slack", "jira" or "statuspage". Its
        `exchanges` list holds (request, response) pairs for assertions.
    unchecked(response) -> response
        marks a deliberately broken response (HTML 502, cut-off JSON, 5xx, 429) so the
        response check leaves it alone (the request is still checked).

For tests/conftest.py: uses_specs(module), require_specs(), missed_specs().

Rules of our own, beyond the specs (they are how these services are meant to be used):
the Slack token travels in `Authorization: Bearer`, never as a `token` argument; Jira
calls carry `Authorization: Basic`, Statuspage calls `Authorization: OAuth`; query
parameters an operation does not declare are refused; Jira rich text must be ADF.
"""

from __future__ import annotations

import base64
import functools
import inspect
import json
import os
import sys
import warnings
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jsonschema
import pytest

SPECS_ENV = "COCKPIT_SPECS_DIR"
UNCHECKED = "cockpit_spec_unchecked"

Handler = Callable[[httpx.Request], "httpx.Response | Awaitable[httpx.Response]"]


class SpecViolation(AssertionError):
    """A request or response that does not match the vendor's published spec."""


# -- locating and loading ---------------------------------------------------------------------
FULL_SPECS = Path(__file__).resolve().parents[2] / "shared" / "specs"
EXTRACT = Path(__file__).resolve().parent / "specs"
REQUIRE_ENV = "COCKPIT_REQUIRE_TOOLS"
_MARKER = Path("slack") / "slack_web_openapi_v2.json"


class SpecsUnavailable(SpecViolation):
    """Neither the full specs nor the trimmed extract is there."""


@dataclass(frozen=True)
class SpecSource:
    root: Path
    trimmed: bool  # the extract in tests/specs (or a copy of it), not the full specs

    def hint(self) -> str:
        """What to add to a "not found" message when the extract may lack it."""
        if not self.trimmed:
            return ""
        return (
            f" [checked against the trimmed extract in {self.root}: if it is real, add it to"
            " tests/specs/extract.py's lists and run that with the full specs beside the checkout]"
        )


_missed: list[str] = []  # why the specs were missing, since the last reset (see missed_specs)


def spec_source() -> SpecSource:
    """`$COCKPIT_SPECS_DIR` when set; else the full specs beside the checkout; else the
    extract in tests/specs. Raises SpecsUnavailable when neither is there, and a plain
    SpecViolation when `$COCKPIT_SPECS_DIR` holds no specs."""
    env = os.environ.get(SPECS_ENV)
    if env:
        root = Path(env).expanduser()
        if (root / _MARKER).is_file():
            return SpecSource(root, trimmed=(root / "PROVENANCE.md").is_file())
        raise SpecViolation(
            f"${SPECS_ENV} is {env!r}, which holds no vendor API specs (no {_MARKER}); point"
            " it at the full specs or at an extract (tests/specs), or unset it"
        )
    if (FULL_SPECS / _MARKER).is_file():
        return SpecSource(FULL_SPECS, trimmed=False)
    if (EXTRACT / _MARKER).is_file():
        return SpecSource(EXTRACT, trimmed=True)
    reason = (
        f"the vendor API specs were not found: neither the full specs in {FULL_SPECS} nor"
        f" the extract in {EXTRACT}; put the shared/specs directory beside the checkout, set"
        f" ${SPECS_ENV}, or restore tests/specs (python tests/specs/extract.py writes it)"
    )
    _missed.append(reason)
    raise SpecsUnavailable(reason)


def specs_dir() -> Path:
    """Where the specs are (see spec_source)."""
    return spec_source().root


def require_specs() -> SpecSource:
    """For a test that needs the specs, before it runs: skip it, saying why, when there are
    none (fail instead under COCKPIT_REQUIRE_TOOLS=1); fail on a bad $COCKPIT_SPECS_DIR."""
    try:
        return spec_source()
    except SpecsUnavailable as e:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{e} ({REQUIRE_ENV}=1 makes this a failure)", pytrace=False)
        raise pytest.skip.Exception(str(e), _use_item_location=True) from None
    except SpecViolation as e:
        pytest.fail(str(e), pytrace=False)


def missed_specs(*, reset: bool = False) -> str | None:
    """Why the specs were missing when last looked up since the last reset, if they were."""
    reason = _missed[-1] if _missed else None
    if reset:
        _missed.clear()
    return reason


def uses_specs(module: ModuleType) -> bool:
    """Whether a test module uses this one, directly or through other test modules (the
    fakes, the sandbox helpers), at module level."""
    return _uses_specs(module, set())


def _uses_specs(module: ModuleType, seen: set[str]) -> bool:
    seen.add(module.__name__)
    for value in list(vars(module).values()):
        name = (
            value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None)
        )
        if not isinstance(name, str):
            continue
        if name == __name__:
            return True
        if (
            name.startswith("tests.")
            and name not in seen
            and name in sys.modules
            and _uses_specs(sys.modules[name], seen)
        ):
            return True
    return False


def _load(relative: str) -> Any:
    path = specs_dir() / relative
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        raise SpecViolation(f"spec file missing: {path}") from None


# -- Slack --------------------------------------------------------------------------------------
# Slack's general errors, which its per-method documentation does not repeat.
_SLACK_GENERAL_ERRORS = frozenset(
    {
        "not_authed",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "org_login_required",
        "ekm_access_denied",
        "missing_scope",
        "not_allowed_token_type",
        "invalid_arguments",
        "invalid_arg_name",
        "invalid_array_arg",
        "invalid_charset",
        "invalid_form_data",
        "invalid_post_type",
        "missing_post_type",
        "team_added_to_org",
        "ratelimited",
        "rate_limited",
        "accesslimited",
        "request_timeout",
        "fatal_error",
        "internal_error",
        "service_unavailable",
        "deprecated_endpoint",
        "two_factor_setup_required",
        "method_deprecated",
        "invalid_json",
        "json_not_object",
        "unknown_method",
    }
)
# Arguments that a JSON body may carry as JSON (the form encoding wants a JSON string).
_SLACK_STRUCTURED_ARGS = frozenset({"blocks", "attachments", "metadata"})


def _patch_slack(spec: dict[str, Any]) -> dict[str, Any]:
    """Known defects of slack_web_openapi_v2.json (last refreshed Oct 2020)."""
    defs = spec["definitions"]
    paths = spec["paths"]
    # Where the generator meant "one of these" it wrote `"items": [A, B]` on a schema
    # that is not an array (objs_conversation, objs_user, objs_response_metadata,
    # message.bot_id, …). JSON Schema ignores `items` on non-arrays, so those objects
    # were never checked at all. Read them as the `anyOf` they mean.
    _tuple_items_to_any_of(spec)
    for item in paths.values():
        for op in item.values():
            # GET methods declare `token` as a required query argument; Slack wants it in
            # the Authorization header (query tokens are refused for apps created since
            # 2021). The header is checked separately, so drop the argument.
            op["parameters"] = [p for p in op.get("parameters", []) if p["name"] != "token"]
    # Message objects: `additionalProperties: false`, yet real messages carry many keys
    # the schema lacks (metadata, edited, app_id, files, …); and `metadata` is absent.
    msg = defs["objs_message"]
    msg["additionalProperties"] = True
    msg["properties"]["metadata"] = {
        "type": "object",
        "required": ["event_type", "event_payload"],
        "properties": {"event_type": {"type": "string"}, "event_payload": {"type": "object"}},
    }
    # Legacy attachments: the schema allows only id/fallback/image_* and requires `id`;
    # the attachments alert integrations post have title, text, fields, color, … and no id
    # (chat.postMessage's own example fails it).
    msg["properties"]["attachments"] = {"type": "array", "items": {"type": "object"}}
    for method in ("conversations.history", "conversations.replies"):
        ok = paths["/" + method]["get"]["responses"]["200"]["schema"]
        # Cursor pagination's `response_metadata` is missing, so every paged answer
        # fails `additionalProperties: false` (the spec's own examples do).
        ok["properties"]["response_metadata"] = {"$ref": "#/definitions/objs_response_metadata"}
        # An empty channel (or nothing newer than `oldest`) is `messages: []`, but the
        # schema says minItems 1.
        ok["properties"]["messages"].pop("minItems", None)
        # pin_count / channel_actions_* are listed as required; Slack's own example
        # omits them and they are not returned with `oldest` or for threads.
        ok["required"] = ["ok", "messages"]
    # conversations.replies describes its messages as two shapes meant for a user token
    # (a parent requiring `subscribed`, a reply requiring `parent_user_id`), each
    # forbidding every other key, so any reply from a bot (bot_id, metadata, …) fails.
    # They are messages: use the message object.
    replies = paths["/conversations.replies"]["get"]["responses"]["200"]["schema"]
    replies["properties"]["messages"]["items"] = {"$ref": "#/definitions/objs_message"}
    return spec


def _tuple_items_to_any_of(node: Any) -> None:
    if isinstance(node, dict):
        if isinstance(node.get("items"), list) and node.get("type") != "array":
            node["anyOf"] = node.pop("items")
        for value in node.values():
            _tuple_items_to_any_of(value)
    elif isinstance(node, list):
        for value in node:
            _tuple_items_to_any_of(value)


@functools.cache
def _slack_spec() -> dict[str, Any]:
    return _patch_slack(_load("slack/slack_web_openapi_v2.json"))


@functools.cache
def _slack_ref(method: str) -> dict[str, Any] | None:
    """The slack-api-ref (docs.slack.dev) metadata for `method`, if it has any."""
    if "/" in method or method.startswith("."):
        return None
    path = (
        specs_dir() / "slack" / "slack-api-ref" / "docs.slack.dev" / "methods" / (method + ".json")
    )
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_bytes())
    return data


@functools.cache
def _slack_response_validator(method: str, verb: str) -> jsonschema.Draft4Validator | None:
    op = _slack_spec()["paths"].get("/" + method, {}).get(verb.lower())
    if op is None:
        return None
    schema = op.get("responses", {}).get("200", {}).get("schema")
    if not schema:
        return None
    return jsonschema.Draft4Validator({**schema, "definitions": _slack_spec()["definitions"]})


def _slack_arg_ok(value: Any, kind: str | None, *, in_json: bool) -> bool:
    if kind == "boolean":
        return isinstance(value, bool) or str(value).lower() in ("true", "false", "1", "0")
    if kind in ("integer", "number"):
        if isinstance(value, bool):
            return False
        if isinstance(value, (int, float)):
            return True
        try:
            float(str(value))
        except ValueError:
            return False
        return kind == "number" or str(value).lstrip("-").isdigit()
    if kind == "string" and in_json:
        return isinstance(value, str) or value is None
    return True


def _slack_arg_kind(
    name: str, swagger_params: Mapping[str, Any], ref_props: Mapping[str, Any]
) -> str | None:
    if name in swagger_params and swagger_params[name].get("type"):
        kind = swagger_params[name]["type"]
        return str(kind)
    ref = ref_props.get(name, {})
    kind = ref.get("type")
    return str(kind) if isinstance(kind, str) else None


def check_slack_call(
    method: str,
    args: Mapping[str, Any],
    response_json: Any = None,
    *,
    http_method: str | None = None,
    json_body: bool | None = None,
) -> None:
    """Check one Slack Web API call given as plain values.

    `args` are the call's arguments (query for GET, body for POST); `response_json` is
    the parsed answer (checked when given). `http_method` defaults to the one the spec
    gives the method, `json_body` to "yes for POST". Raises SpecViolation.
    """
    problems: list[str] = []
    spec = _slack_spec()
    item = spec["paths"].get("/" + method)
    ref = _slack_ref(method)
    if item is None and ref is None:
        raise SpecViolation(f"Slack has no method {method!r}" + spec_source().hint())
    allowed_verbs = {v.upper() for v in (item or {})}
    if ref and ref.get("http_method"):
        allowed_verbs.add(str(ref["http_method"]).upper())
    verb = (http_method or min(allowed_verbs)).upper()  # GET before POST when both
    if json_body is None:
        json_body = verb == "POST"
    if verb not in allowed_verbs:
        problems.append(
            f"{method} is called with {verb}; the spec says " + "/".join(sorted(allowed_verbs))
        )
    op = (item or {}).get(verb.lower()) or next(iter((item or {}).values()), {})
    swagger_params = {p["name"]: p for p in op.get("parameters", [])}
    ref_args = (ref or {}).get("args") or {}
    ref_props: Mapping[str, Any] = ref_args.get("properties") or {}
    if "token" in args:
        problems.append(
            "the token is sent as an argument; it belongs in the Authorization: Bearer header"
        )
    if json_body and verb == "POST":
        json_ok = bool((ref or {}).get("json_input_supported")) or (
            "application/json" in (op.get("consumes") or [])
        )
        if not json_ok:
            problems.append(f"{method} does not accept a JSON body; send form arguments")
    required = {n for n, p in swagger_params.items() if p.get("required")}
    required |= set(ref_args.get("required") or ())
    required.discard("token")
    for name in sorted(required - set(args)):
        problems.append(f"{method}: required argument {name!r} is missing")
    known = set(swagger_params) | set(ref_props)
    for name, value in args.items():
        if name == "token":
            continue
        if name not in known:
            problems.append(f"{method}: unknown argument {name!r}")
            continue
        if json_body and name in _SLACK_STRUCTURED_ARGS and isinstance(value, (dict, list)):
            if name == "metadata":
                problems.extend(_slack_metadata_problems(value))
            continue
        kind = _slack_arg_kind(name, swagger_params, ref_props)
        if not _slack_arg_ok(value, kind, in_json=json_body and verb == "POST"):
            problems.append(f"{method}: argument {name!r}={value!r} is not a {kind}")
    if response_json is not None:
        problems.extend(_slack_response_problems(method, verb, response_json, ref))
    if problems:
        raise SpecViolation("Slack " + method + ":\n  " + "\n  ".join(problems))


def _slack_metadata_problems(value: Any) -> list[str]:
    if not isinstance(value, dict):
        return ["metadata must be an object {event_type, event_payload}"]
    out = []
    if not isinstance(value.get("event_type"), str) or not value.get("event_type"):
        out.append("metadata.event_type must be a non-empty string")
    if not isinstance(value.get("event_payload"), dict):
        out.append("metadata.event_payload must be an object")
    extra = set(value) - {"event_type", "event_payload"}
    if extra:
        out.append(f"metadata has unknown keys {sorted(extra)}")
    return out


def _slack_response_problems(
    method: str, verb: str, doc: Any, ref: Mapping[str, Any] | None
) -> list[str]:
    if not isinstance(doc, dict) or not isinstance(doc.get("ok"), bool):
        return [f"the answer is not a Slack document with 'ok': {str(doc)[:120]}"]
    if doc["ok"] is False:
        code = doc.get("error")
        if not isinstance(code, str):
            return ["an ok:false answer without an 'error' string"]
        known = set(_SLACK_GENERAL_ERRORS)
        known |= set((ref or {}).get("errors") or {})
        for op in _slack_spec()["paths"].get("/" + method, {}).values():
            enum = (
                op.get("responses", {})
                .get("default", {})
                .get("schema", {})
                .get("properties", {})
                .get("error", {})
                .get("enum", [])
            )
            known |= set(enum)
        if code not in known:
            return [f"error code {code!r} is not one {method} can return"]
        return []
    validator = _slack_response_validator(method, verb) or next(
        (v for v in (_slack_response_validator(method, x) for x in ("get", "post")) if v), None
    )
    if validator is None:
        return _slack_ref_output_problems(method, doc, ref)
    return [
        f"answer {'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message[:300]}"
        for e in validator.iter_errors(doc)
    ][:10]


_REF_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "object": dict,
    "array": list,
}


def _slack_ref_output_problems(
    method: str, doc: dict[str, Any], ref: Mapping[str, Any] | None
) -> list[str]:
    """A method newer than the 2020 OpenAPI file (apps.connections.open, …): check an ok
    answer against docs.slack.dev's `output` (its required keys and their types)."""
    output = (ref or {}).get("output")
    if not isinstance(output, dict):
        return []
    props: Mapping[str, Any] = output.get("properties") or {}
    problems = [
        f"{method}: the answer lacks {key!r}"
        for key in output.get("required") or ()
        if key not in doc
    ]
    for key, spec in props.items():
        kind = _REF_TYPES.get(str(spec.get("type"))) if isinstance(spec, dict) else None
        if key in doc and kind is not None and not isinstance(doc[key], kind):
            problems.append(f"{method}: {key!r} is not a {spec['type']}")
    return problems


def _slack_args(request: httpx.Request) -> tuple[dict[str, Any], bool]:
    args: dict[str, Any] = {k: v for k, v in request.url.params.multi_items()}
    is_json = False
    if request.method.upper() == "POST" and request.content:
        ctype = request.headers.get("content-type", "")
        if "json" in ctype:
            is_json = True
            try:
                body = json.loads(request.content)
            except ValueError:
                raise SpecViolation("Slack: the JSON body does not parse") from None
            if not isinstance(body, dict):
                raise SpecViolation("Slack: the JSON body is not an object")
            args.update(body)
        else:
            for k, v in parse_qs(request.content.decode(), keep_blank_values=True).items():
                args[k] = v[-1]
    return args, is_json


def check_slack(request: httpx.Request, response: httpx.Response | None = None) -> None:
    """Check an httpx exchange with the Slack Web API (and the response, when given)."""
    auth = request.headers.get("authorization", "")
    if not auth.startswith("Bearer ") or len(auth) <= len("Bearer "):
        raise SpecViolation("Slack: the request has no Authorization: Bearer <token> header")
    method = request.url.path.rstrip("/").rsplit("/", 1)[-1]
    args, is_json = _slack_args(request)
    doc = None
    if response is not None:
        doc = _slack_response_doc(response)
    check_slack_call(method, args, doc, http_method=request.method, json_body=is_json)


def _slack_response_doc(response: httpx.Response) -> Any:
    if response.extensions.get(UNCHECKED):
        return None
    if response.status_code == 429:
        if not response.headers.get("retry-after"):
            raise SpecViolation("Slack answers 429 with a Retry-After header")
        return None
    if response.status_code != 200:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        raise SpecViolation("Slack: a 200 answer that is not JSON") from None


# -- OpenAPI 3 services (openapi-core) ----------------------------------------------------------
class _OARequest:
    """An httpx.Request in openapi-core's Request protocol, re-based onto the spec's server
    (the base URL is configuration: a fake or the sandbox stands in for the vendor)."""

    def __init__(self, request: httpx.Request, server: str, anchor: str) -> None:
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        path = request.url.path
        at = path.find(anchor)
        if at < 0:
            raise SpecViolation(
                f"{request.url} does not look like a call to this API (no {anchor!r} in the path)"
            )
        parts = urlsplit(server)
        self.host_url = f"{parts.scheme}://{parts.netloc}"
        self.path = parts.path.rstrip("/") + path[at:]
        self.method = request.method.lower()
        self.body: bytes | None = request.content or None
        self.content_type = request.headers.get("content-type", "")
        query = parse_qs(
            request.url.query.decode()
            if isinstance(request.url.query, bytes)
            else str(request.url.query),
            keep_blank_values=True,
        )
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(query), header=Headers(dict(request.headers))
        )
        self.query_names = set(query)


class _OAResponse:
    def __init__(self, response: httpx.Response) -> None:
        from werkzeug.datastructures import Headers

        self.status_code = response.status_code
        self.data: bytes | None = response.content
        self.content_type = response.headers.get("content-type", "")
        self.headers = Headers(dict(response.headers))


def _build_openapi(spec: dict[str, Any]) -> Any:
    from openapi_core import Config, OpenAPI

    # The published specs are not valid enough for openapi-spec-validator (see the
    # patches), and validating 2.4 MB would cost seconds per session: skip it.
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


def _explain(err: BaseException) -> str:
    lines = [str(err)[:400]]
    seen: set[int] = set()
    cause: BaseException | None = err
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        for se in getattr(cause, "schema_errors", None) or []:
            where = "/".join(str(p) for p in getattr(se, "absolute_path", getattr(se, "path", ())))
            lines.append(f"    at {where or '(root)'}: {getattr(se, 'message', se)!s:.300}")
        cause = cause.__cause__ or cause.__context__
    return "\n".join(lines)


def _operation(api: Any, req: _OARequest) -> Any:
    from openapi_core.templating.paths.exceptions import PathError
    from openapi_core.templating.paths.finders import APICallPathFinder

    try:
        return APICallPathFinder(api.spec).find(req.method, req.host_url + req.path)
    except PathError as e:
        raise SpecViolation(
            f"{req.method.upper()} {req.path}: {e}" + spec_source().hint()
        ) from None


def _declared_query(found: Any) -> set[str]:
    names: set[str] = set()
    for holder in (found.path, found.operation):
        params = holder / "parameters"
        if not params.exists():
            continue
        for p in params:
            if (p / "in").read_str(None) == "query":
                names.add((p / "name").read_str())
    return names


def _oa_check(
    name: str,
    api: Any,
    req: _OARequest,
    response: httpx.Response | None,
    extra: Callable[[_OARequest, Any], list[str]],
) -> None:
    found = _operation(api, req)
    problems: list[str] = []
    undeclared = req.query_names - _declared_query(found)
    if undeclared:
        problems.append(f"query parameters not in the spec: {sorted(undeclared)}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Unsupported scheme type" for OAuth2 alternatives
        problems.extend(_explain(e) for e in api.request_validator.iter_errors(req))
    body = None
    if req.body:
        try:
            body = json.loads(req.body)
        except ValueError:
            problems.append("the request body is not JSON")
    if body is not None:
        problems.extend(extra(req, body))
    if response is not None and not response.extensions.get(UNCHECKED):
        problems.extend(_oa_response_problems(api, req, found, response))
    if problems:
        raise SpecViolation(f"{name} {req.method.upper()} {req.path}:\n  " + "\n  ".join(problems))


def _oa_response_problems(
    api: Any, req: _OARequest, found: Any, response: httpx.Response
) -> list[str]:
    responses = found.operation / "responses"
    declared = set(responses.str_keys())
    status = str(response.status_code)
    if status not in declared and "default" not in declared:
        if response.status_code < 300:
            return [
                f"answered {status}, which the spec does not declare "
                f"(it declares {', '.join(sorted(declared))})"
            ]
        return []  # 429, 5xx, …: behaviour the spec does not describe
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [_explain(e) for e in api.response_validator.iter_errors(req, _OAResponse(response))]


# -- Jira ---------------------------------------------------------------------------------------
_ADF_OBJECT = {
    "type": "object",
    "required": ["type", "version", "content"],
    "properties": {
        "type": {"type": "string", "enum": ["doc"]},
        "version": {"type": "integer"},
        "content": {"type": "array"},
    },
}


def _patch_jira(spec: dict[str, Any]) -> dict[str, Any]:
    """Known defects of Jira's swagger-v3.v3.json (Dec 2025 copy)."""
    schemas = spec["components"]["schemas"]
    # Comment.body has no type at all, so a plain string (the v2 format, which v3
    # refuses) passes. Require an ADF document (check_adf checks it in full).
    schemas["Comment"]["properties"]["body"] = {**_ADF_OBJECT, "description": "ADF"}
    # "If this result represents the last or the only page this token will be null",
    # says the description, but the schema is a non-nullable string.
    schemas["SearchAndReconcileResults"]["properties"]["nextPageToken"]["nullable"] = True
    # Times are declared `format: date-time` (RFC 3339), but Jira writes them as
    # "2021-01-17T12:34:00.000+0000" (no colon in the offset), as the spec's own examples
    # show: a real answer would fail. Check Jira's own format instead.
    _jira_times(schemas)
    for item in spec["paths"].values():
        for verb, op in item.items():
            if verb == "parameters" or not isinstance(op, dict):
                continue
            for status, resp in op.get("responses", {}).items():
                content = resp.get("content", {})
                js = content.get("application/json", {})
                # 204 No Content, and answers whose schema is `{}` (issueLink 201,
                # issue-property PUT 200/201, assignee 204, …), declare a JSON body,
                # but Jira sends none: openapi-core then fails on the empty body.
                if content and (status == "204" or js.get("schema") == {}):
                    resp.pop("content")
    return spec


_JIRA_TIME = r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$"


def _jira_times(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("format") == "date-time" and node.get("type") == "string":
            node.pop("format")
            node["pattern"] = _JIRA_TIME
        for value in node.values():
            _jira_times(value)
    elif isinstance(node, list):
        for value in node:
            _jira_times(value)


@functools.cache
def _jira_api() -> Any:
    return _build_openapi(_patch_jira(_load("jira/swagger-v3.v3.json")))


def _jira_adf_fields(req: _OARequest, body: Any) -> list[str]:
    """Rich-text fields of Jira requests must be ADF documents."""
    problems: list[str] = []

    def adf(where: str, value: Any) -> None:
        try:
            check_adf(value)
        except SpecViolation as e:
            problems.append(f"{where} must be an ADF document: {e}")

    if not isinstance(body, dict):
        return problems
    fields = body.get("fields")
    if isinstance(fields, dict):
        for key in ("description", "environment"):
            if key in fields and fields[key] is not None:
                adf(f"fields.{key}", fields[key])
    update = body.get("update")
    if isinstance(update, dict):
        for i, op in enumerate(update.get("comment") or []):
            if isinstance(op, dict) and isinstance(op.get("add"), dict):
                adf(f"update.comment[{i}].add.body", op["add"].get("body"))
    if req.path.endswith("/comment") or "/comment/" in req.path:
        adf("body", body.get("body"))
    if isinstance(body.get("comment"), dict):  # issueLink
        adf("comment.body", body["comment"].get("body"))
    return problems


def check_jira(request: httpx.Request, response: httpx.Response | None = None) -> None:
    """Check a Jira Cloud REST v3 exchange (and the response, when given)."""
    auth = request.headers.get("authorization", "")
    if not auth.startswith("Basic "):
        raise SpecViolation("Jira: the request has no Authorization: Basic header")
    try:
        decoded = base64.b64decode(auth[6:], validate=True).decode()
    except ValueError:
        raise SpecViolation("Jira: the Basic credentials are not base64") from None
    if ":" not in decoded:
        raise SpecViolation("Jira: Basic credentials must be email:token")
    req = _OARequest(request, "https://your-domain.atlassian.net", "/rest/api/")
    _oa_check("Jira", _jira_api(), req, response, _jira_adf_fields)
    if response is not None and response.status_code < 300 and response.content:
        try:
            doc = json.loads(response.content)
        except ValueError:
            return
        for comment in _jira_comments(doc):
            try:
                check_adf(comment.get("body"))
            except SpecViolation as e:
                raise SpecViolation(f"Jira answer: a comment body is not ADF: {e}") from None


def _jira_comments(doc: Any) -> Iterator[dict[str, Any]]:
    if isinstance(doc, dict):
        if isinstance(doc.get("comments"), list):
            yield from (c for c in doc["comments"] if isinstance(c, dict))
        elif "body" in doc and "author" in doc:
            yield doc


# -- Statuspage ---------------------------------------------------------------------------------
_SP_NULLABLE = {
    # Fields the API answers with null (the developer.statuspage.io examples show it),
    # though the schema types them as plain strings/booleans.
    "Incident": [
        "impact_override",
        "monitoring_at",
        "postmortem_body",
        "postmortem_body_last_updated_at",
        "postmortem_published_at",
        "resolved_at",
        "scheduled_for",
        "scheduled_until",
        "scheduled_reminded_at",
        "shortlink",
        "metadata",
        "reminder_intervals",
        "scheduled_remind_prior",
        "scheduled_auto_in_progress",
        "scheduled_auto_completed",
        "auto_transition_deliver_notifications_at_end",
        "auto_transition_deliver_notifications_at_start",
        "auto_transition_to_maintenance_state",
        "auto_transition_to_operational_state",
        "postmortem_notified_twitter",
        "postmortem_notified_subscribers",
        "postmortem_ignored",
    ],
    "IncidentUpdate": [
        "custom_tweet",
        "tweet_id",
        "twitter_updated_at",
        "affected_components",
        "display_at",
    ],
    "Component": ["group_id", "description", "start_date", "automation_email"],
    "Page": [
        "page_description",
        "headline",
        "branding",
        "domain",
        "support_url",
        "notifications_from_email",
        "notifications_email_footer",
        "twitter_username",
        "ip_restrictions",
        "city",
        "state",
        "country",
        "css_body_background_color",
        "favicon_logo",
        "transactional_logo",
        "hero_cover",
        "email_logo",
        "twitter_logo",
    ],
}
_COMPONENT_STATUS = [
    "operational",
    "under_maintenance",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "",
]


def _patch_statuspage(spec: dict[str, Any]) -> dict[str, Any]:
    """Known defects of statuspage-openapi3.json (developer.statuspage.io, 2026-07)."""
    schemas = spec["components"]["schemas"]
    incident = schemas["Incident"]["properties"]
    # `"type": "Object"` (capital O) is not a JSON Schema type: nothing would validate.
    incident["metadata"]["type"] = "object"
    # postmortem_published_at is typed boolean; the API sends a timestamp (or null).
    incident["postmortem_published_at"] = {"type": "string", "format": "date-time"}
    for name, fields in _SP_NULLABLE.items():
        props = schemas[name]["properties"]
        for field in fields:
            props[field]["nullable"] = True
            if "enum" in props[field]:  # an enum must list null too, to allow it
                props[field]["enum"] = [*props[field]["enum"], None]
    for body in ("postPagesPageIdIncidents", "patchPagesPageIdIncidents"):
        outer = schemas[body]
        inner = outer["properties"]["incident"]
        # The body must be {"incident": {...}}, but nothing is required and unknown keys
        # are allowed at both levels, so a malformed body (fields not wrapped, a typo in
        # a field name) passes unnoticed.
        outer["required"] = ["incident"]
        outer["additionalProperties"] = False
        inner["additionalProperties"] = False
        # `components` ("map of status changes") lists one example component id as its
        # only property, instead of `additionalProperties` with the status enum: any
        # status string would pass for any real id.
        inner["properties"]["components"] = {
            "type": "object",
            "additionalProperties": {"type": "string", "enum": _COMPONENT_STATUS},
        }
    return spec


@functools.cache
def _statuspage_api() -> Any:
    return _build_openapi(_patch_statuspage(_load("statuspage/statuspage-openapi3.json")))


def _statuspage_body(req: _OARequest, body: Any) -> list[str]:
    inc = body.get("incident") if isinstance(body, dict) else None
    if not isinstance(inc, dict):
        return []
    meta = inc.get("metadata")
    if isinstance(meta, dict):
        # "All top-level values in the object must also be objects."
        bad = [k for k, v in meta.items() if not isinstance(v, dict)]
        if bad:
            return [f"incident.metadata top-level values must be objects: {bad}"]
    return []


def check_statuspage(request: httpx.Request, response: httpx.Response | None = None) -> None:
    """Check a Statuspage REST exchange (and the response, when given)."""
    auth = request.headers.get("authorization", "")
    if not auth.startswith("OAuth ") or len(auth) <= len("OAuth "):
        raise SpecViolation("Statuspage: the request has no Authorization: OAuth <key> header")
    if "api_key" in request.url.params:
        raise SpecViolation("Statuspage: the key is sent in the URL; use the header")
    req = _OARequest(request, "https://api.statuspage.io/v1", "/pages/")
    _oa_check("Statuspage", _statuspage_api(), req, response, _statuspage_body)


# -- ADF ----------------------------------------------------------------------------------------
def _patch_adf(schema: dict[str, Any]) -> dict[str, Any]:
    """Known defects of @atlaskit/adf-schema 57.7.22 full.json: none that touch the
    nodes cockpit writes (doc, paragraph, text + link marks, heading, bullet list)."""
    return schema


@functools.cache
def _adf_validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(_patch_adf(_load("adf/full.json")))


def check_adf(doc: Any) -> None:
    """Check an Atlassian Document Format document against adf/full.json."""
    errors = sorted(_adf_validator().iter_errors(doc), key=lambda e: len(e.absolute_path))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        where = "/".join(str(p) for p in best.absolute_path) or "(root)"
        raise SpecViolation(f"not valid ADF at {where}: {best.message[:300]}")


# -- the checking transport --------------------------------------------------------------------
_REQUEST_CHECKS: dict[str, Callable[[httpx.Request, httpx.Response | None], None]] = {
    "slack": check_slack,
    "jira": check_jira,
    "statuspage": check_statuspage,
}


def unchecked(response: httpx.Response) -> httpx.Response:
    """Mark `response` as deliberately off-spec (the request is still checked)."""
    response.extensions[UNCHECKED] = True
    return response


class CheckedTransport(httpx.MockTransport):
    """A MockTransport that checks every exchange with `service`'s checker."""

    def __init__(self, service: str, handler: Handler) -> None:
        if service not in _REQUEST_CHECKS:
            raise ValueError(f"unknown service {service!r}; use one of {sorted(_REQUEST_CHECKS)}")
        self.service = service
        self.exchanges: list[tuple[httpx.Request, httpx.Response | None]] = []
        check = _REQUEST_CHECKS[service]

        async def checked(request: httpx.Request) -> httpx.Response:
            await request.aread()
            check(request, None)  # before the handler: a bad request fails even on timeouts
            self.exchanges.append((request, None))
            result = handler(request)
            response = await result if inspect.isawaitable(result) else result
            assert isinstance(response, httpx.Response)
            self.exchanges[-1] = (request, response)
            if not response.extensions.get(UNCHECKED):
                check(request, response)
            return response

        super().__init__(checked)


def checked_transport(service: str, handler: Handler) -> CheckedTransport:
    """An httpx transport that runs `handler` and checks every exchange against the spec."""
    return CheckedTransport(service, handler)

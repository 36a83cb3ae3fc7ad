"""The Jira Cloud REST endpoints cockpit and the official clients use, at
`<base>/rest/api/3/...` (Atlassian Document Format for rich text) and `<base>/rest/api/2/...`
(the same site; rich text as plain strings, as the `jira` library sends them).

Basic auth (`email:api-token`) is required and any pair is accepted (but for a token refused
with `SandboxState.refuse_token`: 401); the email becomes the Jira user (`GET /myself`).

The site is set up as a real team's (jira_site.py): INCIDENT's create screen requires
Priority and the custom Severity field (`customfield_10042`), a field not on the screen is
Cloud's 400 "Field 'x' cannot be set. It is not on the appropriate screen, or unknown.", a
required one missing is "Priority is required."; RESOLVED and CANCELED have a screen that
asks for a Resolution; JQL search sees writes only `search_lag` seconds later. Rich text
in v3 is checked against the ADF JSON Schema (schema.py): a string where a document belongs
is Jira's 400 `{"errors": {"description": "Operation value must be an Atlassian Document
..."}}` (a comment: "Comment body is not valid!"), a document that breaks the schema is
`{"errorMessages": ["INVALID_INPUT"]}`.

Projects: INCIDENT (workflow Pending → FIXING → Fixing → MONITORING → Monitoring → RESOLVED
→ Resolved, CANCELED from Pending/Fixing, REOPEN from Resolved/Canceled; FIXING assigns the
caller when nobody is assigned) and BUG (To Do / In Progress / Done) for follow-ups.
Transitions are posted by id, as in Jira; an id not available from the current status is a 400.
Also served: `/serverInfo` (with `versionNumbers`), `/field`, `/priority`, `/resolution`,
`/issuetype`, `/issueLinkType`, `/project/{key}`, createmeta
(`/issue/createmeta/{project}/issuetypes[/{id}]`).
The search endpoint understands a JQL subset: AND/OR/NOT and parentheses over `field = v`,
`!=`, `~`, `IN (...)`, `NOT IN (...)`, `IS [NOT] EMPTY` on project, key, labels, status,
statusCategory, issuetype, priority, assignee, reporter, resolution, summary and text, with
`currentUser()` and `ORDER BY`. Comments keep the entity properties sent with them
(`"properties": [{"key", "value"}]`), shown with `expand=properties`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from cockpit.integrations.adf import adf_to_text, from_plain
from cockpit.sandbox.jira_site import (
    ALWAYS_REQUIRED,
    READ_ONLY,
    RESOLUTIONS,
    SYSTEM_FIELDS,
    CustomField,
    JiraSite,
    ProjectSetup,
)
from cockpit.sandbox.schema import adf_problem
from cockpit.sandbox.state import (
    ISSUE_TYPES,
    LINK_TYPES,
    PRIORITIES,
    STATUS_CATEGORIES,
    JiraIssue,
    JiraProject,
    JiraTransition,
    Request,
    Response,
    SandboxState,
    iso_jira,
)

JSON = dict[str, Any]

NOT_ADF = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
NOT_STRING = "Operation value must be a string"
BAD_COMMENT = "Comment body is not valid!"
SERVER_VERSION = (1001, 0, 0)
PRIORITY_COLOURS = {
    "Highest": "#d04437",
    "High": "#f15C75",
    "Medium": "#f79232",
    "Low": "#707070",
    "Lowest": "#999999",
}


class JiraError(Exception):
    def __init__(
        self, status: int, messages: list[str] | None = None, errors: dict[str, str] | None = None
    ) -> None:
        super().__init__(messages, errors)
        self.status = status
        self.messages = messages or []
        self.errors = errors or {}

    def response(self) -> Response:
        return Response.json(self.status, {"errorMessages": self.messages, "errors": self.errors})


def cannot_set(name: str) -> str:
    return f"Field '{name}' cannot be set. It is not on the appropriate screen, or unknown."


Route = tuple[str, re.Pattern[str], str]
_ROUTES: list[Route] = [
    (m, re.compile("^" + p + "$"), name)
    for m, p, name in (
        ("GET", r"/myself", "myself"),
        ("GET", r"/serverInfo", "server_info"),
        ("GET", r"/user/search", "user_search"),
        ("GET", r"/field", "fields"),
        ("GET", r"/priority", "priorities"),
        ("GET", r"/resolution", "resolutions"),
        ("GET", r"/issuetype", "issue_types"),
        ("GET", r"/issueLinkType", "link_types"),
        ("GET", r"/project/([^/]+)", "project"),
        ("GET", r"/issue/createmeta/([^/]+)/issuetypes", "createmeta_types"),
        ("GET", r"/issue/createmeta/([^/]+)/issuetypes/([^/]+)", "createmeta_fields"),
        ("POST", r"/issue", "create_issue"),
        ("GET", r"/issue/([^/]+)", "get_issue"),
        ("PUT", r"/issue/([^/]+)", "edit_issue"),
        ("GET", r"/search/jql", "search"),
        ("POST", r"/search/jql", "search"),
        ("GET", r"/issue/([^/]+)/transitions", "get_transitions"),
        ("POST", r"/issue/([^/]+)/transitions", "do_transition"),
        ("GET", r"/issue/([^/]+)/changelog", "get_changelog"),
        ("GET", r"/issue/([^/]+)/comment", "get_comments"),
        ("POST", r"/issue/([^/]+)/comment", "add_comment"),
        ("GET", r"/issue/([^/]+)/remotelink", "get_remote_links"),
        ("POST", r"/issue/([^/]+)/remotelink", "add_remote_link"),
        ("POST", r"/issueLink", "link_issues"),
        ("PUT", r"/issue/([^/]+)/assignee", "assign"),
        ("GET", r"/issue/([^/]+)/properties", "property_keys"),
        ("GET", r"/issue/([^/]+)/properties/([^/]+)", "get_property"),
        ("PUT", r"/issue/([^/]+)/properties/([^/]+)", "set_property"),
        ("DELETE", r"/issue/([^/]+)/properties/([^/]+)", "delete_property"),
    )
]


class JiraAPI:
    PREFIX = "/rest/api/3"
    PREFIXES = ("/rest/api/3", "/rest/api/2")

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self.version = 3  # of the request being answered (set under the state's lock)

    @property
    def site(self) -> JiraSite:
        return self.state.jira_site

    # -- entry ----------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        caller = self._auth(request)
        if caller is None:
            return Response.json(
                401,
                {
                    "errorMessages": ["Client must be authenticated to access this resource."],
                    "errors": {},
                },
                [("WWW-Authenticate", 'Basic realm="protected-area"')],
            )
        version = 2 if request.path.startswith("/rest/api/2") else 3
        sub = request.path[len(self.PREFIX) :] or "/"
        allowed = False
        for method, pattern, name in _ROUTES:
            match = pattern.match(sub)
            if not match:
                continue
            if method != request.method:
                allowed = True
                continue
            handler: Callable[..., Response] = getattr(self, name)
            try:
                with self.state.lock:
                    self.version = version
                    # path parameters arrive percent-encoded (an issue key, a property key)
                    return handler(request, caller, *(unquote(g) for g in match.groups()))
            except JiraError as err:
                return err.response()
        if allowed:
            return Response.empty(405)
        return Response.json(
            404, {"errorMessages": [f"null for uri: {request.path}"], "errors": {}}
        )

    def _auth(self, request: Request) -> JSON | None:
        auth = request.header("Authorization")
        if not auth.lower().startswith("basic "):
            return None
        try:
            raw = base64.b64decode(auth[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        email, sep, token = raw.partition(":")
        if not sep or not email.strip() or not token:
            return None
        if token.strip() in self.state.refused_tokens:
            return None
        return self.state.jira_user(email)

    def _body(self, request: Request) -> JSON:
        if not request.body:
            raise JiraError(400, ["No content to map due to end-of-input"])
        try:
            body = json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise JiraError(400, ["Unexpected character in the request body: not JSON"]) from exc
        if not isinstance(body, dict):
            raise JiraError(400, ["The request body must be a JSON object"])
        return body

    # -- rich text: ADF in v3, plain strings in v2 -------------------------------------------
    def _rich_in(self, value: Any, field: str) -> Any:
        """A rich-text field as sent (v3: an ADF document, checked against the schema; v2: a
        string, kept as the document Cloud makes of it). None stays None."""
        if value is None:
            return None
        if self.version == 2:
            if not isinstance(value, str):
                raise JiraError(400, [], {field: NOT_STRING})
            return from_plain(value) if value.strip() else None
        if not isinstance(value, dict) or value.get("type") != "doc":
            raise JiraError(400, [], {field: BAD_COMMENT if field == "comment" else NOT_ADF})
        if adf_problem(value) is not None:
            raise JiraError(400, ["INVALID_INPUT"], {})
        return value

    def _rich_out(self, value: Any) -> Any:
        if value is None or self.version == 3:
            return value
        return adf_to_text(value)

    def _written(self, issue: JiraIssue) -> None:
        """`issue` changed now: its `updated`, and the version search will see after the lag."""
        now = self.state.now()
        issue.updated = now
        self.site.index.record(issue.key, issue, now)

    def _issue(self, key: str) -> JiraIssue:
        issue = self.state.issue(key)
        if issue is None:
            raise JiraError(404, ["Issue does not exist or you do not have permission to see it."])
        return issue

    # -- rendering ------------------------------------------------------------------------
    @property
    def base(self) -> str:
        return self.state.base_url

    def user_json(self, account_id: str | None, *, full: bool = False) -> JSON | None:
        """A `UserDetails` (as in issues and comments), or with `full` a `User` (/myself)."""
        if account_id is None:
            return None
        user = self.state.jira_users.get(account_id)
        if user is None:
            return None
        avatar = "https://avatar-management.example/sandbox/{0}/{1}x{1}.png"
        out = {
            "self": f"{self.base}/rest/api/3/user?accountId={quote(account_id)}",
            **user,
            "avatarUrls": {f"{n}x{n}": avatar.format(account_id[-8:], n) for n in (16, 24, 32, 48)},
        }
        if not full:
            out.pop("locale", None)
        return out

    def status_json(self, project: JiraProject, name: str) -> JSON:
        status = project.workflow.status(name)
        cat = STATUS_CATEGORIES[status.category]
        return {
            "self": f"{self.base}/rest/api/3/status/{status.id}",
            "description": "",
            "iconUrl": f"{self.base}/images/icons/statuses/generic.png",
            "name": status.name,
            "id": status.id,
            "statusCategory": {"self": f"{self.base}/rest/api/3/statuscategory/{cat['id']}", **cat},
        }

    def project_json(self, project: JiraProject) -> JSON:
        return {
            "self": f"{self.base}/rest/api/3/project/{project.id}",
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "projectTypeKey": "software",
            "simplified": False,
        }

    def issue_ref(self, issue: JiraIssue) -> JSON:
        project = self.state.projects[issue.project]
        return {
            "id": issue.id,
            "key": issue.key,
            "self": f"{self.base}/rest/api/3/issue/{issue.id}",
            "fields": {
                "summary": issue.fields.get("summary", ""),
                "status": self.status_json(project, issue.status),
                "priority": self._priority(issue.fields.get("priority")),
                "issuetype": self._issuetype(issue.fields["issuetype"]),
            },
        }

    def _priority(self, name: str | None) -> JSON | None:
        if name is None:
            return None
        pid = PRIORITIES[name]
        return {
            "self": f"{self.base}/rest/api/3/priority/{pid}",
            "name": name,
            "id": pid,
            "iconUrl": f"{self.base}/images/icons/priorities/{name.lower()}.svg",
        }

    def _resolution(self, name: str) -> JSON:
        r = RESOLUTIONS.get(name, RESOLUTIONS["Done"])
        return {
            "self": f"{self.base}/rest/api/3/resolution/{r['id']}",
            "id": r["id"],
            "name": name,
            "description": r["description"],
        }

    def _component(self, project: JiraProject, name: str) -> JSON:
        names = self.site.setup(project.key).components
        cid = str(int(project.id) * 10 + (names.index(name) if name in names else 99))
        return {"self": f"{self.base}/rest/api/3/component/{cid}", "id": cid, "name": name}

    def _option(self, cf: CustomField, value: str) -> JSON:
        oid = cf.option_id(value)
        return {
            "self": f"{self.base}/rest/api/3/customFieldOption/{oid}",
            "value": value,
            "id": oid,
        }

    def _issuetype(self, name: str) -> JSON:
        t = ISSUE_TYPES[name]
        return {
            "self": f"{self.base}/rest/api/3/issuetype/{t['id']}",
            **t,
            "iconUrl": f"{self.base}/images/icons/issuetypes/{name.lower()}.svg",
        }

    def comment_json(
        self, issue: JiraIssue, comment: JSON, *, with_properties: bool = False
    ) -> JSON:
        out: JSON = {
            "self": f"{self.base}/rest/api/3/issue/{issue.id}/comment/{comment['id']}",
            "id": comment["id"],
            "author": self.user_json(comment["author"]),
            "body": self._rich_out(comment["body"]),
            "updateAuthor": self.user_json(comment["author"]),
            "created": comment["created"],
            "updated": comment["created"],
            "jsdPublic": True,
        }
        if with_properties:
            out["properties"] = [
                {"key": k, "value": v} for k, v in comment.get("properties", {}).items()
            ]
        return out

    def all_fields(self, issue: JiraIssue) -> JSON:
        project = self.state.projects[issue.project]
        f = issue.fields
        links = []
        for link in issue.links:
            other_key = link["outward"] if link["inward"] == issue.key else link["inward"]
            other = self.state.issue(other_key)
            if other is None:
                continue
            lt = LINK_TYPES[link["type"]]
            entry: JSON = {
                "id": link["id"],
                "self": f"{self.base}/rest/api/3/issueLink/{link['id']}",
                "type": {**lt, "self": f"{self.base}/rest/api/3/issueLinkType/{lt['id']}"},
            }
            # On the inward issue the link points out to the outward issue, and back.
            side = "outwardIssue" if link["inward"] == issue.key else "inwardIssue"
            entry[side] = self.issue_ref(other)
            links.append(entry)
        comments = [self.comment_json(issue, c) for c in issue.comments]
        resolution = self._resolution(issue.resolution) if issue.resolution else None
        fields: JSON = {
            "summary": f.get("summary", ""),
            "description": self._rich_out(f.get("description")),
            "issuetype": self._issuetype(f["issuetype"]),
            "project": self.project_json(project),
            "status": self.status_json(project, issue.status),
            "statuscategorychangedate": iso_jira(issue.updated),
            "labels": list(f.get("labels", [])),
            "priority": self._priority(f.get("priority")),
            "assignee": self.user_json(issue.assignee),
            "reporter": self.user_json(issue.reporter),
            "creator": self.user_json(issue.reporter),
            "created": iso_jira(issue.created),
            "updated": iso_jira(issue.updated),
            "resolution": resolution,
            "resolutiondate": iso_jira(issue.resolutiondate) if issue.resolutiondate else None,
            "environment": self._rich_out(f.get("environment")),
            "duedate": f.get("duedate"),
            "components": [self._component(project, c) for c in f.get("components", [])],
            "fixVersions": [],
            "issuelinks": links,
            "comment": {
                "comments": comments,
                "self": f"{self.base}/rest/api/3/issue/{issue.id}/comment",
                "maxResults": len(comments),
                "total": len(comments),
                "startAt": 0,
            },
            "lastViewed": None,
        }
        fields.update({k: v for k, v in f.items() if k.startswith("customfield_")})
        return fields

    def issue_json(
        self,
        issue: JiraIssue,
        fields: list[str] | None,
        properties: list[str] | None = None,
        expand: str = "",
    ) -> JSON:
        """`fields` as Jira takes them: names, `*all`, `*navigable`, `-name`; None = all."""
        out: JSON = {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,"
            "versionedRepresentations",
            "id": issue.id,
            "self": f"{self.base}/rest/api/3/issue/{issue.id}",
            "key": issue.key,
        }
        everything = self.all_fields(issue)
        wanted = fields if fields is not None else ["*all"]
        chosen: JSON = {}
        if any(w in ("*all", "*navigable") for w in wanted):
            chosen = dict(everything)
        for w in wanted:
            if w in everything:
                chosen[w] = everything[w]
        for w in wanted:
            if w.startswith("-"):
                chosen.pop(w[1:], None)
        out["fields"] = chosen
        if properties:
            keys = issue.properties if "*all" in properties else properties
            out["properties"] = {k: issue.properties[k] for k in keys if k in issue.properties}
        expands = {e.strip() for e in expand.split(",") if e.strip()}
        if "transitions" in expands or "transitions.fields" in expands:
            out["transitions"] = self._transitions(
                issue, with_fields="transitions.fields" in expands
            )
        if "names" in expands:
            out["names"] = {k: k.capitalize() for k in chosen}
        return out

    def _screen(self, issue: JiraIssue, t: JiraTransition) -> tuple[str, ...]:
        return self.site.setup(issue.project).screens.get(t.name, ())

    def _transitions(self, issue: JiraIssue, *, with_fields: bool = False) -> list[JSON]:
        project = self.state.projects[issue.project]
        out = []
        for t in project.workflow.available(issue.status):
            screen = self._screen(issue, t)
            entry: JSON = {
                "id": t.id,
                "name": t.name,
                "to": self.status_json(project, t.to),
                "hasScreen": bool(screen),
                "isGlobal": False,
                "isInitial": False,
                "isAvailable": True,
                "isConditional": False,
                "isLooped": False,
            }
            if with_fields:
                entry["fields"] = {f: self._field_meta(f, required=True) for f in screen}
            out.append(entry)
        return out

    def _field_meta(
        self, field_id: str, *, required: bool, project: JiraProject | None = None
    ) -> JSON:
        """A field as a screen shows it (FieldMetadata), with its allowed values."""
        cf = self.site.custom_fields.get(field_id)
        name = self.site.field_name(field_id)
        schema = cf.schema() if cf else dict(SYSTEM_FIELDS[field_id][1])
        meta: JSON = {
            "required": required,
            "schema": schema,
            "name": name,
            "key": field_id,
            "operations": ["set"]
            if field_id not in ("labels", "components")
            else ["add", "set", "remove"],
        }
        allowed: list[JSON] | None = None
        if cf is not None:
            allowed = [self._option(cf, v) for v in cf.options]
        elif field_id == "priority":
            allowed = [self._priority_full(n) for n in PRIORITIES]
        elif field_id == "resolution":
            allowed = [self._resolution(n) for n in RESOLUTIONS]
        elif field_id == "components" and project is not None:
            allowed = [self._component(project, c) for c in self.site.setup(project.key).components]
        if allowed is not None:
            meta["allowedValues"] = allowed
        return meta

    # -- users ----------------------------------------------------------------------------
    def myself(self, request: Request, caller: JSON) -> Response:
        return Response.json(200, self.user_json(caller["accountId"], full=True))

    def server_info(self, request: Request, caller: JSON) -> Response:
        now = datetime.fromtimestamp(self.state.now(), UTC)
        return Response.json(
            200,
            {
                "baseUrl": self.base,
                "displayUrl": self.base,
                "version": ".".join(str(n) for n in SERVER_VERSION) + "-SNAPSHOT",
                "versionNumbers": list(SERVER_VERSION),
                "deploymentType": "Cloud",
                "buildNumber": 100000,
                "buildDate": "2025-01-06T00:00:00.000+0000",
                "serverTime": now.strftime("%Y-%m-%dT%H:%M:%S.")
                + f"{now.microsecond // 1000:03d}+0000",
                "scmInfo": "0123456789abcdef0123456789abcdef01234567",
                "serverTitle": "Drill Range Jira",
                "defaultLocale": {"locale": "en_US"},
                "serverTimeZone": "Etc/UTC",
            },
        )

    # -- the site's setup -----------------------------------------------------------------
    def fields(self, request: Request, caller: JSON) -> Response:
        out: list[JSON] = []
        for fid, (name, schema) in SYSTEM_FIELDS.items():
            clauses = [fid] if fid not in ("issuelinks", "comment") else []
            if fid == "issuetype":
                clauses = ["issuetype", "type"]
            if fid == "components":
                clauses = ["component"]
            out.append(
                {
                    "id": fid,
                    "key": fid,
                    "name": name,
                    "custom": False,
                    "orderable": fid not in READ_ONLY,
                    "navigable": fid != "comment",
                    "searchable": bool(clauses),
                    "clauseNames": clauses,
                    "schema": dict(schema),
                }
            )
        for cf in self.site.custom_fields.values():
            out.append(
                {
                    "id": cf.id,
                    "key": cf.id,
                    "name": cf.name,
                    "untranslatedName": cf.name,
                    "custom": True,
                    "orderable": True,
                    "navigable": True,
                    "searchable": True,
                    "clauseNames": [f"cf[{cf.number}]", cf.name],
                    "schema": cf.schema(),
                }
            )
        return Response.json(200, out)

    def _priority_full(self, name: str) -> JSON:
        return {
            **(self._priority(name) or {}),
            "statusColor": PRIORITY_COLOURS[name],
            "description": f"{name} priority",
            "isDefault": name == "Medium",
        }

    def priorities(self, request: Request, caller: JSON) -> Response:
        return Response.json(200, [self._priority_full(n) for n in PRIORITIES])

    def resolutions(self, request: Request, caller: JSON) -> Response:
        return Response.json(
            200, [{**self._resolution(n), "isDefault": n == "Done"} for n in RESOLUTIONS]
        )

    def issue_types(self, request: Request, caller: JSON) -> Response:
        return Response.json(200, [self._issuetype(n) for n in ISSUE_TYPES])

    def link_types(self, request: Request, caller: JSON) -> Response:
        return Response.json(
            200,
            {
                "issueLinkTypes": [
                    {**lt, "self": f"{self.base}/rest/api/3/issueLinkType/{lt['id']}"}
                    for lt in LINK_TYPES.values()
                ]
            },
        )

    def _project(self, ref: str) -> JiraProject:
        for p in self.state.projects.values():
            if ref.upper() == p.key or ref == p.id:
                return p
        raise JiraError(404, [f"No project could be found with key '{ref}'."])

    def project(self, request: Request, caller: JSON, ref: str) -> Response:
        p = self._project(ref)
        out = self.project_json(p)
        out.update(
            {
                "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
                "description": "",
                "lead": self.user_json(next(iter(self.state.jira_users), None)),
                "components": [self._component(p, c) for c in self.site.setup(p.key).components],
                "issueTypes": [self._issuetype(n) for n in p.issue_types],
                "assigneeType": "UNASSIGNED",
                "versions": [],
                "roles": {},
                "style": "classic",
                "isPrivate": False,
                "properties": {},
            }
        )
        return Response.json(200, out)

    def _page(self, request: Request, items: list[JSON], key: str) -> Response:
        try:
            start = int(request.arg("startAt") or 0)
            limit = int(request.arg("maxResults") or 50)
        except ValueError as exc:
            raise JiraError(400, ["startAt and maxResults must be numbers"]) from exc
        limit = max(1, min(limit, 200))
        return Response.json(
            200,
            {
                "maxResults": limit,
                "startAt": start,
                "total": len(items),
                key: items[start : start + limit],
            },
        )

    def createmeta_types(self, request: Request, caller: JSON, ref: str) -> Response:
        p = self._project(ref)
        return self._page(request, [self._issuetype(n) for n in p.issue_types], "issueTypes")

    def createmeta_fields(self, request: Request, caller: JSON, ref: str, type_id: str) -> Response:
        p = self._project(ref)
        name = next(
            (n for n in p.issue_types if ISSUE_TYPES[n]["id"] == type_id or n == type_id), None
        )
        if name is None:
            raise JiraError(404, [f"Issue type with id '{type_id}' does not exist in {p.key}."])
        setup = self.site.setup(p.key)
        out = []
        for fid in setup.create_fields:
            meta = self._field_meta(fid, required=setup.is_required(fid), project=p)
            meta["fieldId"] = fid
            default = setup.defaults.get(fid)
            if fid == "reporter":
                default = "caller"
            meta["hasDefaultValue"] = default is not None
            if fid == "priority" and default is not None:
                meta["defaultValue"] = self._priority_full(str(default))
            if fid == "issuetype":
                meta["allowedValues"] = [self._issuetype(name)]
            if fid == "project":
                meta["allowedValues"] = [self.project_json(p)]
            out.append(meta)
        return self._page(request, out, "fields")

    def user_search(self, request: Request, caller: JSON) -> Response:
        query = (request.arg("query") or "").strip().lower()
        if not query:
            raise JiraError(400, ["The query parameter 'query' is required."])
        found = [
            self.user_json(a, full=True)
            for a, u in self.state.jira_users.items()
            if query in u["emailAddress"].lower()
            or query in u["displayName"].lower()
            or query == a.lower()
        ]
        return Response.json(200, found)

    # -- issues ---------------------------------------------------------------------------
    def create_issue(self, request: Request, caller: JSON) -> Response:
        body = self._body(request)
        fields = body.get("fields")
        if not isinstance(fields, dict):
            raise JiraError(
                400,
                [],
                {
                    "project": "Specify a valid project ID or key",
                    "summary": "You must specify a summary of the issue.",
                },
            )
        errors: dict[str, str] = {}
        project = self._project_ref(fields.get("project"))
        if project is None:
            errors["project"] = "Specify a valid project ID or key"
        setup = self.site.setup(project.key) if project is not None else None
        if setup is not None:
            for name in fields:
                if name in ("project", "issuetype"):
                    continue
                if name not in setup.create_fields or name in READ_ONLY:
                    errors[name] = cannot_set(name)
        itype = self._issuetype_ref(fields.get("issuetype"), project)
        if itype is None:
            errors["issuetype"] = "Specify a valid issue type"
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 255:
            errors["summary"] = "Summary must be less than 255 characters."
        stored: JSON = {}
        for rich in ("description", "environment"):
            if rich in fields and rich not in errors:
                try:
                    stored[rich] = self._rich_in(fields[rich], rich)
                except JiraError as err:
                    if err.messages:  # INVALID_INPUT: the whole request
                        raise
                    errors.update(err.errors)
        labels = fields.get("labels", [])
        label_error = _labels_problem(labels)
        if label_error:
            errors["labels"] = label_error
        priority = self._priority_ref(fields.get("priority"))
        if fields.get("priority") is not None and priority is None:
            errors["priority"] = "Specify a valid priority"
        assignee = self._account_ref(fields.get("assignee"), errors, "assignee")
        reporter = self._account_ref(fields.get("reporter"), errors, "reporter")
        if setup is not None and project is not None:
            self._check_values(fields, setup, project, errors, stored)
            for fid in setup.required:
                if fid in errors or fid in ALWAYS_REQUIRED or fid in setup.defaults:
                    continue
                value = fields.get(fid)
                if value is None or value == [] or value == "":
                    errors[fid] = f"{self.site.field_name(fid)} is required."
        if errors:
            raise JiraError(400, [], errors)
        assert project is not None and itype is not None and setup is not None
        for k, v in fields.items():
            if k not in ("project", "issuetype", "priority", "labels") and k not in stored:
                stored[k] = v
        default_priority = setup.defaults.get("priority")
        stored.update(
            {"issuetype": itype, "labels": list(labels), "priority": priority or default_priority}
        )
        issue = self.state.new_issue(
            project, stored, reporter or caller["accountId"], assignee=assignee, store=False
        )
        self._apply_update(issue, body.get("update"), caller)  # a bad update: nothing stored
        issue.properties.update(_properties(body.get("properties")))
        self.state.issues[issue.key] = issue
        self._written(issue)
        return Response.json(
            201,
            {"id": issue.id, "key": issue.key, "self": f"{self.base}/rest/api/3/issue/{issue.id}"},
        )

    def _check_values(
        self,
        fields: JSON,
        setup: ProjectSetup,
        project: JiraProject,
        errors: dict[str, str],
        stored: JSON,
    ) -> None:
        """Custom select fields and components: their values as the site knows them, into
        `stored` (as Jira keeps them); a bad one into `errors`."""
        for fid, value in fields.items():
            if fid in errors:
                continue
            cf = self.site.custom_fields.get(fid)
            if cf is not None:
                if value is None:
                    stored[fid] = None
                    continue
                ref = value if isinstance(value, dict) else {}
                chosen = next(
                    (
                        o
                        for o in cf.options
                        if ref.get("value") == o or str(ref.get("id")) == cf.option_id(o)
                    ),
                    None,
                )
                if chosen is None:
                    errors[fid] = f"Specify a valid 'id' or 'name' for {cf.name}"
                else:
                    stored[fid] = self._option(cf, chosen)
            elif fid.startswith("customfield_"):
                errors.setdefault(fid, cannot_set(fid))
            elif fid == "components":
                if not isinstance(value, list):
                    errors[fid] = "Components must be a list"
                    continue
                names = []
                known = setup.components
                for c in value:
                    ref = c if isinstance(c, dict) else {}
                    name = ref.get("name")
                    if name is None and ref.get("id") is not None:
                        name = next(
                            (
                                n
                                for n in known
                                if self._component(project, n)["id"] == str(ref["id"])
                            ),
                            None,
                        )
                        if name is None:
                            errors[fid] = f"Component with id '{ref['id']}' does not exist."
                            break
                    if not isinstance(name, str) or name not in known:
                        errors[fid] = f"Component name '{name}' is not valid"
                        break
                    names.append(name)
                else:
                    stored[fid] = names

    def _project_ref(self, ref: Any) -> JiraProject | None:
        if not isinstance(ref, dict):
            return None
        for p in self.state.projects.values():
            if ref.get("key") == p.key or str(ref.get("id")) == p.id:
                return p
        return None

    def _issuetype_ref(self, ref: Any, project: JiraProject | None) -> str | None:
        if not isinstance(ref, dict):
            return None
        for name, t in ISSUE_TYPES.items():
            if (ref.get("name") == name or str(ref.get("id")) == t["id"]) and (
                project is None or name in project.issue_types
            ):
                return name
        return None

    def _priority_ref(self, ref: Any) -> str | None:
        if not isinstance(ref, dict):
            return None
        for name, pid in PRIORITIES.items():
            if ref.get("name") == name or str(ref.get("id")) == pid:
                return name
        return None

    def _account_ref(self, ref: Any, errors: dict[str, str], field: str) -> str | None:
        if ref is None:
            return None
        account = ref.get("accountId") if isinstance(ref, dict) else None
        if account is None:
            return None
        if account not in self.state.jira_users:
            errors[field] = f"User '{account}' cannot be assigned issues."
            return None
        return str(account)

    def get_issue(self, request: Request, caller: JSON, key: str) -> Response:
        issue = self._issue(key)
        fields = _list_arg(request, "fields")
        props = _list_arg(request, "properties")
        return Response.json(
            200, self.issue_json(issue, fields or None, props, request.arg("expand") or "")
        )

    def edit_issue(self, request: Request, caller: JSON, key: str) -> Response:
        issue = self._issue(key)
        project = self.state.projects[issue.project]
        setup = self.site.setup(issue.project)
        body = self._body(request)
        fields = body.get("fields") or {}
        if not isinstance(fields, dict):
            raise JiraError(400, ["fields must be an object"])
        errors: dict[str, str] = {}
        stored: JSON = {}
        editable = set(setup.create_fields) - {"project", "issuetype", "reporter"}
        for name, value in fields.items():
            if name not in editable or name in READ_ONLY:
                errors[name] = cannot_set(name)
            elif name in ("description", "environment"):
                try:
                    stored[name] = self._rich_in(value, name)
                except JiraError as err:
                    if err.messages:
                        raise
                    errors.update(err.errors)
            elif name == "labels" and _labels_problem(value):
                errors[name] = _labels_problem(value) or ""
            elif name == "summary" and (not isinstance(value, str) or not value.strip()):
                errors[name] = "You must specify a summary of the issue."
            elif name == "priority" and self._priority_ref(value) is None:
                errors[name] = (
                    "Priority is required."
                    if value is None and setup.is_required(name)
                    else "Specify a valid priority"
                )
            elif value is None and setup.is_required(name):
                errors[name] = f"{self.site.field_name(name)} is required."
        self._check_values(
            {k: v for k, v in fields.items() if k not in errors}, setup, project, errors, stored
        )
        assignee = self._account_ref(fields.get("assignee"), errors, "assignee")
        if errors:
            raise JiraError(400, [], errors)
        for name, value in fields.items():
            if name == "priority":
                issue.fields["priority"] = self._priority_ref(value)
            elif name == "assignee":
                issue.assignee = assignee
            elif name in stored:
                issue.fields[name] = stored[name]
            else:
                issue.fields[name] = list(value) if name == "labels" else value
        self._apply_update(issue, body.get("update"), caller)
        self._written(issue)
        if (request.arg("returnIssue") or "").lower() == "true":
            return Response.json(200, self.issue_json(issue, None))
        return Response.empty(204)

    def _apply_update(self, issue: JiraIssue, update: Any, caller: JSON) -> None:
        """The `update` verbs Jira takes: labels add/remove/set, comment add."""
        if not update:
            return
        if not isinstance(update, dict):
            raise JiraError(400, ["update must be an object"])
        for name, ops in update.items():
            if name not in ("labels", "comment"):
                raise JiraError(
                    400,
                    [],
                    {
                        name: f"Field '{name}' cannot be set. It is not on "
                        "the appropriate screen, or unknown."
                    },
                )
            if not isinstance(ops, list):
                raise JiraError(400, [], {name: "Operations must be a list"})
            for op in ops:
                if not isinstance(op, dict) or len(op) != 1:
                    raise JiraError(400, [], {name: "Each operation needs exactly one verb"})
                verb, value = next(iter(op.items()))
                if name == "labels":
                    self._label_op(issue, verb, value)
                elif verb == "add" and isinstance(value, dict):
                    if value.get("body") is None:
                        raise JiraError(400, [], {"comment": "Comment body can not be empty!"})
                    self._add_comment(issue, self._rich_in(value["body"], "comment"), caller)
                else:
                    raise JiraError(400, [], {"comment": f"Unsupported operation '{verb}'"})

    def _label_op(self, issue: JiraIssue, verb: str, value: Any) -> None:
        labels: list[str] = issue.fields.setdefault("labels", [])
        values = value if verb == "set" else [value]
        problem = _labels_problem(values)
        if problem:
            raise JiraError(400, [], {"labels": problem})
        if verb == "add":
            if value not in labels:
                labels.append(value)
        elif verb == "remove":
            if value in labels:
                labels.remove(value)
        elif verb == "set":
            issue.fields["labels"] = list(values)
        else:
            raise JiraError(400, [], {"labels": f"Unsupported operation '{verb}'"})

    # -- search ---------------------------------------------------------------------------
    def search(self, request: Request, caller: JSON) -> Response:
        if request.method == "POST":
            body = self._body(request)
            jql = body.get("jql") or ""
            fields = body.get("fields")
            props = body.get("properties")
            max_results = body.get("maxResults", 50)
            token = body.get("nextPageToken")
            expand = body.get("expand") or ""
        else:
            jql = request.arg("jql") or ""
            fields = _list_arg(request, "fields")
            props = _list_arg(request, "properties")
            max_results = request.arg("maxResults") or 50
            token = request.arg("nextPageToken")
            expand = request.arg("expand") or ""
        query = parse_jql(str(jql))
        if query.where is None:
            raise JiraError(
                400,
                [
                    "Unbounded JQL queries are not allowed here. Please add a "
                    "search restriction to your query."
                ],
            )
        try:
            limit = max(1, min(int(max_results), 5000))
            start = int(base64.b64decode(str(token)).decode()) if token else 0
        except (ValueError, binascii.Error) as exc:
            raise JiraError(400, ["Invalid maxResults or nextPageToken"]) from exc
        # the index lags writes: each issue as search sees it now (not yet there: skipped)
        now = self.state.now()
        seen = (self.site.index.visible(i.key, i, now) for i in list(self.state.issues.values()))
        matches = [i for i in seen if i is not None and query.where(self._values(i, caller))]
        for field, descending in reversed(query.order or [("created", True)]):
            matches.sort(key=self._sort_key(field), reverse=descending)
        page = matches[start : start + limit]
        wanted = [f for f in (fields or []) if f != "id"]
        issues = []
        for issue in page:
            if wanted or props or expand:
                issues.append(self.issue_json(issue, wanted, props or None, str(expand)))
            else:
                issues.append({"id": issue.id})
        out: JSON = {"issues": issues, "isLast": start + limit >= len(matches)}
        if not out["isLast"]:
            out["nextPageToken"] = base64.b64encode(str(start + limit).encode()).decode()
        return Response.json(200, out)

    def _values(self, issue: JiraIssue, caller: JSON) -> Callable[[str], list[str]]:
        project = self.state.projects[issue.project]

        def values(field: str) -> list[str]:
            f = issue.fields
            if field == "currentuser":
                return [caller["accountId"]]
            return {
                "project": [project.key.lower(), project.name.lower(), project.id],
                "key": [issue.key.lower(), issue.id],
                "issuekey": [issue.key.lower(), issue.id],
                "labels": list(f.get("labels", [])),
                "status": [issue.status.lower(), project.workflow.status(issue.status).id],
                "statuscategory": [
                    STATUS_CATEGORIES[project.workflow.status(issue.status).category][
                        "name"
                    ].lower(),
                    project.workflow.status(issue.status).category,
                ],
                "issuetype": [f["issuetype"].lower()],
                "type": [f["issuetype"].lower()],
                "priority": [str(f.get("priority") or "").lower()],
                "assignee": [issue.assignee] if issue.assignee else [],
                "reporter": [issue.reporter],
                "resolution": [issue.resolution.lower()] if issue.resolution else [],
                "summary": [str(f.get("summary", ""))],
                "text": [
                    str(f.get("summary", "")),
                    json.dumps(f.get("description")),
                    *(json.dumps(c["body"]) for c in issue.comments),
                ],
            }[field]

        return values

    def _sort_key(self, field: str) -> Callable[[JiraIssue], Any]:
        if field in ("created", "key", "issuekey"):
            return lambda i: (i.project, int(i.key.rsplit("-", 1)[1]))
        if field == "updated":
            return lambda i: i.updated
        if field == "priority":
            return lambda i: -int(PRIORITIES.get(i.fields.get("priority") or "Medium", "3"))
        if field == "status":
            return lambda i: i.status
        if field == "summary":
            return lambda i: str(i.fields.get("summary", ""))
        raise JiraError(
            400,
            [f"Error in the JQL Query: Field '{field}' cannot be ordered by in the drill range."],
        )

    # -- transitions ----------------------------------------------------------------------
    def get_transitions(self, request: Request, caller: JSON, key: str) -> Response:
        issue = self._issue(key)
        expand = {e.strip() for e in (request.arg("expand") or "").split(",")}
        found = self._transitions(issue, with_fields="transitions.fields" in expand)
        wanted = request.arg("transitionId")
        if wanted:
            found = [t for t in found if t["id"] == wanted]
        return Response.json(200, {"expand": "transitions", "transitions": found})

    def do_transition(self, request: Request, caller: JSON, key: str) -> Response:
        issue = self._issue(key)
        body = self._body(request)
        transition = body.get("transition")
        tid = str(transition.get("id") or "") if isinstance(transition, dict) else ""
        if not tid:
            raise JiraError(400, ["'transition' identifier must be specified."])
        project = self.state.projects[issue.project]
        chosen = next((t for t in project.workflow.available(issue.status) if t.id == tid), None)
        if chosen is None:
            raise JiraError(400, [f"Transition id '{tid}' is not valid for this issue."])
        fields = body.get("fields") or {}
        if not isinstance(fields, dict):
            raise JiraError(400, [], {"fields": cannot_set("fields")})
        screen = self._screen(issue, chosen)
        errors = {b: cannot_set(b) for b in sorted(set(fields) - set(screen))}
        for fid in screen:
            value = fields.get(fid)
            if value is None:
                errors[fid] = f"{self.site.field_name(fid)} is required."
            elif fid == "resolution" and self._resolution_ref(value) is None:
                errors[fid] = "Specify a valid 'id' or 'name' for Resolution"
        if errors:
            raise JiraError(400, [], errors)
        self._apply_update(issue, body.get("update"), caller)
        before = issue.status
        issue.status = chosen.to
        category = project.workflow.status(chosen.to).category
        now = self.state.now()
        if category == "done":
            name = self._resolution_ref(fields.get("resolution"))
            issue.resolution = name or ("Won't Do" if chosen.to == "Canceled" else "Done")
            issue.resolutiondate = now
        else:
            issue.resolution = None
            issue.resolutiondate = None
        if chosen.name == "FIXING" and issue.assignee is None:
            issue.assignee = caller["accountId"]  # the playbook: whoever marks FIXING owns it
        issue.history.append(
            {
                "from": before,
                "to": chosen.to,
                "transition": chosen.name,
                "by": caller["accountId"],
                "at": iso_jira(now),
            }
        )
        self._written(issue)
        return Response.empty(204)

    @staticmethod
    def _resolution_ref(ref: Any) -> str | None:
        if not isinstance(ref, dict):
            return None
        for name, r in RESOLUTIONS.items():
            if ref.get("name") == name or str(ref.get("id")) == r["id"]:
                return name
        return None

    # -- comments -------------------------------------------------------------------------
    def _add_comment(
        self, issue: JiraIssue, body: Any, caller: JSON, properties: JSON | None = None
    ) -> JSON:
        comment = {
            "id": str(self.state.next_id("jira-comment", 10000)),
            "body": body,
            "author": caller["accountId"],
            "created": iso_jira(self.state.now()),
            "properties": dict(properties or {}),
        }
        issue.comments.append(comment)
        self._written(issue)
        return comment

    def add_comment(self, request: Request, caller: JSON, key: str) -> Response:
        issue = self._issue(key)
        body = self._body(request)
        if body.get("body") is None:
            raise JiraError(400, [], {"comment": "Comment body can not be empty!"})
        text = self._rich_in(body["body"], "comment")
        properties = _properties(body.get("properties"))
        comment = self._add_comment(issue, text, caller, properties)
        return Response.json(201, self.comment_json(issue, comment))

    def get_changelog(self, request: Request, caller: JSON, key: str) -> Response:
        """The issue's status changes, oldest first, a page at a time (Jira's changelog
        holds every field's changes; the drill range keeps the status's)."""
        issue = self._issue(key)
        try:
            start = max(0, int(request.arg("startAt") or 0))
            limit = min(100, max(1, int(request.arg("maxResults") or 100)))
        except ValueError as exc:
            raise JiraError(400, ["startAt and maxResults must be numbers"]) from exc
        workflow = self.state.projects[issue.project].workflow
        values = []
        for n, change in enumerate(issue.history):
            before, after = workflow.status(change["from"]), workflow.status(change["to"])
            author = self.user_json(change["by"])
            values.append(
                {
                    "id": str(10_000 + n),
                    **({"author": author} if author else {}),
                    "created": change["at"],
                    "items": [
                        {
                            "field": "status",
                            "fieldtype": "jira",
                            "fieldId": "status",
                            "from": before.id,
                            "fromString": before.name,
                            "to": after.id,
                            "toString": after.name,
                        }
                    ],
                }
            )
        page = values[start : start + limit]
        base = f"{self.base}/rest/api/3/issue/{issue.key}/changelog"
        out: JSON = {
            "self": f"{base}?startAt={start}&maxResults={limit}",
            "maxResults": limit,
            "startAt": start,
            "total": len(values),
            "isLast": start + limit >= len(values),
            "values": page,
        }
        if not out["isLast"]:
            out["nextPage"] = f"{base}?startAt={start + limit}&maxResults={limit}"
        return Response.json(200, out)

    def get_comments(self, request: Request, caller: JSON, key: str) -> Response:
        issue = self._issue(key)
        try:
            start = int(request.arg("startAt") or 0)
            limit = int(request.arg("maxResults") or 5000)
        except ValueError as exc:
            raise JiraError(400, ["startAt and maxResults must be numbers"]) from exc
        comments = list(issue.comments)
        if (request.arg("orderBy") or "").lstrip("+") == "-created":
            comments.reverse()
        page = comments[start : start + limit]
        expand = {e.strip() for e in (request.arg("expand") or "").split(",")}
        return Response.json(
            200,
            {
                "startAt": start,
                "maxResults": limit,
                "total": len(comments),
                "comments": [
                    self.comment_json(issue, c, with_properties="properties" in expand)
                    for c in page
                ],
            },
        )

    # -- links ----------------------------------------------------------------------------
    def add_remote_link(self, request: Request, caller: JSON, key: str) -> Response:
        issue = self._issue(key)
        body = self._body(request)
        obj = body.get("object")
        errors: dict[str, str] = {}
        if not isinstance(obj, dict) or not isinstance(obj.get("url"), str) or not obj["url"]:
            errors["url"] = "'url' is required."
        if not isinstance(obj, dict) or not isinstance(obj.get("title"), str) or not obj["title"]:
            errors["title"] = "'title' is required."
        global_id = body.get("globalId")
        if global_id is not None and (not isinstance(global_id, str) or len(global_id) > 255):
            errors["globalId"] = "globalId must be a string of at most 255 characters."
        if errors:
            raise JiraError(400, [], errors)
        link: JSON = {k: body[k] for k in ("globalId", "application", "relationship") if k in body}
        link["object"] = obj
        existing = next(
            (
                r
                for r in issue.remote_links
                if global_id is not None and r.get("globalId") == global_id
            ),
            None,
        )
        if existing is not None:
            link_id = existing["id"]
            existing.clear()
            existing.update(
                link,
                id=link_id,
                self=f"{self.base}/rest/api/3/issue/{issue.key}/remotelink/{link_id}",
            )
            status = 200
        else:
            link_id = self.state.next_id("jira-remotelink", 10000)
            link.update(
                id=link_id, self=f"{self.base}/rest/api/3/issue/{issue.key}/remotelink/{link_id}"
            )
            issue.remote_links.append(link)
            status = 201
        self._written(issue)
        return Response.json(
            status,
            {
                "id": link_id,
                "self": f"{self.base}/rest/api/3/issue/{issue.key}/remotelink/{link_id}",
            },
        )

    def get_remote_links(self, request: Request, caller: JSON, key: str) -> Response:
        issue = self._issue(key)
        global_id = request.arg("globalId")
        if global_id is not None:
            for r in issue.remote_links:
                if r.get("globalId") == global_id:
                    return Response.json(200, r)
            raise JiraError(404, ["No remote link with the given globalId was found."])
        return Response.json(200, list(issue.remote_links))

    def link_issues(self, request: Request, caller: JSON) -> Response:
        body = self._body(request)
        ref = body.get("type")
        lt = None
        if isinstance(ref, dict):
            lt = next(
                (
                    t
                    for t in LINK_TYPES.values()
                    if ref.get("name") == t["name"] or str(ref.get("id")) == t["id"]
                ),
                None,
            )
        if lt is None:
            name = ref.get("name") if isinstance(ref, dict) else ref
            raise JiraError(404, [f"No issue link type with name '{name}' found."])
        keys = []
        for side in ("inwardIssue", "outwardIssue"):
            value = body.get(side)
            ident = (value.get("key") or value.get("id")) if isinstance(value, dict) else None
            issue = self.state.issue(str(ident)) if ident else None
            if issue is None:
                raise JiraError(
                    404,
                    [f"Issue '{ident}' does not exist or you do not have permission to see it."],
                )
            keys.append(issue.key)
        inward, outward = keys
        first = self._issue(inward)
        comment = body.get("comment")
        note = None
        if isinstance(comment, dict) and comment.get("body") is not None:
            note = self._rich_in(comment["body"], "comment")  # a bad comment: no link either
        duplicate = any(
            link["type"] == lt["name"] and link["inward"] == inward and link["outward"] == outward
            for link in first.links
        )
        if not duplicate:
            link = {
                "id": str(self.state.next_id("jira-link", 10000)),
                "type": lt["name"],
                "inward": inward,
                "outward": outward,
            }
            first.links.append(link)
            self._written(first)
            if outward != inward:
                second = self._issue(outward)
                second.links.append(link)
                self._written(second)
        if note is not None:
            self._add_comment(first, note, caller)
        return Response.empty(201)

    # -- assignee -------------------------------------------------------------------------
    def assign(self, request: Request, caller: JSON, key: str) -> Response:
        issue = self._issue(key)
        body = self._body(request)
        if "accountId" not in body:
            raise JiraError(400, [], {"accountId": "accountId is required (null to unassign)"})
        account = body["accountId"]
        if account is None:
            issue.assignee = None
        elif account == "-1":
            issue.assignee = issue.reporter
        elif account in self.state.jira_users:
            issue.assignee = str(account)
        else:
            raise JiraError(400, [], {"assignee": f"User '{account}' cannot be assigned issues."})
        self._written(issue)
        return Response.empty(204)

    # -- properties -----------------------------------------------------------------------
    def property_keys(self, request: Request, caller: JSON, key: str) -> Response:
        issue = self._issue(key)
        return Response.json(
            200,
            {
                "keys": [
                    {
                        "self": f"{self.base}/rest/api/3/issue/{issue.id}/properties/{quote(k)}",
                        "key": k,
                    }
                    for k in issue.properties
                ]
            },
        )

    def get_property(self, request: Request, caller: JSON, key: str, prop: str) -> Response:
        issue = self._issue(key)
        if prop not in issue.properties:
            raise JiraError(404, [f"The property with key '{prop}' does not exist."])
        return Response.json(200, {"key": prop, "value": issue.properties[prop]})

    def set_property(self, request: Request, caller: JSON, key: str, prop: str) -> Response:
        issue = self._issue(key)
        if len(prop) > 255:
            raise JiraError(400, ["The property key can not be longer than 255 characters."])
        if len(request.body) > 32768:
            raise JiraError(400, ["The property value can not be longer than 32768 bytes."])
        try:
            value = json.loads(request.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise JiraError(400, ["The property value must be valid JSON."]) from exc
        created = prop not in issue.properties
        issue.properties[prop] = value
        return Response.empty(201 if created else 200)

    def delete_property(self, request: Request, caller: JSON, key: str, prop: str) -> Response:
        issue = self._issue(key)
        if issue.properties.pop(prop, _MISSING) is _MISSING:
            raise JiraError(404, [f"The property with key '{prop}' does not exist."])
        return Response.empty(204)


_MISSING = object()


def _properties(value: Any) -> JSON:
    """Entity properties sent with an issue or a comment: [{"key", "value"}, ...]."""
    if value is None:
        return {}
    if not isinstance(value, list) or not all(
        isinstance(p, dict) and isinstance(p.get("key"), str) and p["key"] for p in value
    ):
        raise JiraError(400, ["properties must be a list of {key, value} objects"])
    return {p["key"]: p.get("value") for p in value}


def _list_arg(request: Request, name: str) -> list[str]:
    out: list[str] = []
    for value in request.query.get(name, []):
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return out


def _labels_problem(labels: Any) -> str | None:
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        return "Labels must be a list of strings."
    for label in labels:
        if not label or any(c.isspace() for c in label):
            return f"The label '{label}' contains spaces which is invalid."
        if len(label) > 255:
            return "The label must not exceed 255 characters."
    return None


# -- JQL ---------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"""\s*(?:
    (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>!=|!~|>=|<=|=|~|>|<)
  | (?P<punct>[(),])
  | (?P<word>[A-Za-z0-9_.\-\[\]:*]+(?:\(\))?)
)""",
    re.VERBOSE,
)

FIELDS = frozenset(
    {
        "project",
        "key",
        "issuekey",
        "labels",
        "status",
        "statuscategory",
        "issuetype",
        "type",
        "priority",
        "assignee",
        "reporter",
        "resolution",
        "summary",
        "text",
    }
)
Values = Callable[[str], list[str]]
Predicate = Callable[[Values], bool]


class Jql:
    def __init__(self, where: Predicate | None, order: list[tuple[str, bool]]) -> None:
        self.where = where
        self.order = order


def _jql_error(message: str) -> JiraError:
    return JiraError(400, [f"Error in the JQL Query: {message}"])


def _tokenize(jql: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = jql.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            char = text[pos:].strip()[:1]
            raise _jql_error(
                f"The character '{char}' is a reserved JQL character. You must "
                f"enclose it in a string or use the escape '\\u{ord(char):04x}' "
                f"instead. (line 1, character {pos + 1})"
            )
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append((kind, value))
        pos = m.end()
    return tokens


def parse_jql(jql: str) -> Jql:
    tokens = _tokenize(jql)
    pos = 0

    def peek(offset: int = 0) -> tuple[str, str] | None:
        return tokens[pos + offset] if pos + offset < len(tokens) else None

    def keyword(*words: str) -> bool:
        tok = peek()
        return tok is not None and tok[0] == "word" and tok[1].upper() in words

    def take() -> tuple[str, str]:
        nonlocal pos
        tok = peek()
        if tok is None:
            raise _jql_error("Expecting more input at the end of the query.")
        pos += 1
        return tok

    def value() -> str:
        kind, text = take()
        if kind not in ("str", "word"):
            raise _jql_error(f"Expecting a value but got '{text}'.")
        return text

    def clause() -> Predicate:
        kind, field = take()
        if kind not in ("word", "str"):
            raise _jql_error(f"Expecting a field name but got '{field}'.")
        name = field.lower()
        if name not in FIELDS:
            raise _jql_error(
                f"Field '{field}' does not exist or you do not have permission to view it."
            )
        if keyword("IS"):
            take()
            negate = keyword("NOT")
            if negate:
                take()
            if not keyword("EMPTY", "NULL"):
                raise _jql_error("Expecting EMPTY or NULL after IS.")
            take()
            return lambda v: bool(v(name)) if negate else not v(name)
        if keyword("NOT") and (peek(1) or ("", ""))[1].upper() == "IN":
            take()
            take()
            wanted = value_list()
            return lambda v: bool(v(name)) and not any(_eq(name, x, v) for x in wanted)
        if keyword("IN"):
            take()
            wanted = value_list()
            return lambda v: any(_eq(name, x, v) for x in wanted)
        kind, op = take()
        if kind != "op":
            raise _jql_error(f"Expecting an operator but got '{op}'.")
        operand = value()
        if op == "=":
            return lambda v: _eq(name, operand, v)
        if op == "!=":
            return lambda v: bool(v(name)) and not _eq(name, operand, v)
        if op in ("~", "!~"):
            if name not in ("summary", "text"):
                raise _jql_error(f"The operator '{op}' is not supported by the '{field}' field.")
            needle = operand.lower().strip("*")
            hit: Predicate = lambda v: any(needle in s.lower() for s in v(name))  # noqa: E731
            return hit if op == "~" else (lambda v: not hit(v))
        raise _jql_error(f"The operator '{op}' is not supported by the '{field}' field.")

    def value_list() -> list[str]:
        if take() != ("punct", "("):
            raise _jql_error("Expecting '(' before the list of values.")
        items = [value()]
        while peek() == ("punct", ","):
            take()
            items.append(value())
        if take() != ("punct", ")"):
            raise _jql_error("Expecting ')' after the list of values.")
        return items

    def factor() -> Predicate:
        if keyword("NOT"):
            take()
            inner = factor()
            return lambda v: not inner(v)
        if peek() == ("punct", "("):
            take()
            inner = expr()
            if take() != ("punct", ")"):
                raise _jql_error("Expecting ')'.")
            return inner
        return clause()

    def term() -> Predicate:
        parts = [factor()]
        while keyword("AND"):
            take()
            parts.append(factor())
        return lambda v: all(p(v) for p in parts)

    def expr() -> Predicate:
        parts = [term()]
        while keyword("OR"):
            take()
            parts.append(term())
        return lambda v: any(p(v) for p in parts)

    where: Predicate | None = None
    if peek() is not None and not keyword("ORDER"):
        where = expr()
    order: list[tuple[str, bool]] = []
    if keyword("ORDER"):
        take()
        if not keyword("BY"):
            raise _jql_error("Expecting 'BY' after 'ORDER'.")
        take()
        while True:
            _, field = take()
            descending = False
            if keyword("ASC", "DESC"):
                descending = take()[1].upper() == "DESC"
            order.append((field.lower(), descending))
            if peek() != ("punct", ","):
                break
            take()
    if peek() is not None:
        raise _jql_error(f"Expecting operator but got '{take()[1]}'.")
    return Jql(where, order)


def _eq(field: str, operand: str, values: Values) -> bool:
    if operand.lower() == "currentuser()":
        return values("currentuser")[0] in values(field)
    if operand.upper() in ("EMPTY", "NULL"):
        return not values(field)
    have = values(field)
    if field == "labels":
        return operand in have
    if field in ("summary", "text"):
        return any(operand.lower() == h.lower() for h in have)
    return operand.lower() in have or operand in have

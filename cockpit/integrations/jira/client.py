"""Jira Cloud REST v3 client: the incident ticket.

Basic auth with the user's email and an API token; REST at `<url>/rest/api/3/...`.
Rich text (description, comments) is Atlassian Document Format (see `adf.py`), never a
plain string. Transitions are looked up by name among those the issue's workflow offers
right now, never by hard-coded id, so two projects with different workflows both work.

For the outbox's idempotency checks after an ambiguous failure:
* `create_issue(..., properties=...)` stores entity properties with the new issue, and
  `search_by_label` finds an issue we may already have created (labels are indexed);
* `add_comment(..., marker=...)` stores a comment property that
  `find_comment_with_marker` looks for;
* `remote_link` sends a `globalId`, so sending it again updates rather than duplicates.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from cockpit.domain.clock import utc
from cockpit.domain.sanitize import sanitize, sanitize_tree
from cockpit.integrations.errors import RemoteError, TransitionUnavailable, shorten
from cockpit.integrations.http import ApiClient, Reply, require

API = "rest/api/3"
MARKER_PROPERTY = "cockpit.marker"
_ISSUE_KEY = re.compile(r"[A-Z][A-Z0-9_]{0,19}-[1-9][0-9]{0,9}")


@dataclass(frozen=True)
class JiraUser:
    account_id: str
    display_name: str
    email: str = ""


@dataclass(frozen=True)
class CreatedIssue:
    key: str
    id: str
    url: str  # the browse URL people open


@dataclass(frozen=True)
class Issue:
    key: str
    id: str
    url: str
    summary: str = ""
    status: str = ""
    labels: tuple[str, ...] = ()
    fields: dict[str, Any] = field(default_factory=dict)  # sanitized, as Jira sent them


@dataclass(frozen=True)
class StatusChange:
    """A move of an issue's status, from its changelog."""

    at: datetime | None
    before: str  # status names
    after: str
    by: str  # the account id ("" when Jira does not say)


def jira_time(value: object) -> datetime | None:
    """Jira's date-time (2026-12-07T04:52:02.000+0000), or None."""
    if not isinstance(value, str) or not value:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return utc(datetime.strptime(value, fmt))
        except ValueError:
            continue
    return None


@dataclass(frozen=True)
class FieldMeta:
    """A field as a screen shows it (createmeta, a transition's screen)."""

    id: str
    name: str
    required: bool = False
    has_default: bool = False
    allowed: tuple[str, ...] = ()  # the names / option values it takes ((): any)


@dataclass(frozen=True)
class CreateMeta:
    """What creating an issue of `issue_type` in `project` takes (createmeta)."""

    project: str
    issue_type: str
    fields: dict[str, FieldMeta]

    def has(self, field_id: str) -> bool:
        return field_id in self.fields

    def missing(self, given: Iterable[str]) -> list[FieldMeta]:
        """The required fields without a default that `given` (field ids) leaves out."""
        have = set(given) | {"project", "issuetype", "summary"}
        return [
            f for f in self.fields.values() if f.required and not f.has_default and f.id not in have
        ]


@dataclass(frozen=True)
class Transition:
    id: str
    name: str
    to_status: str = ""
    fields: dict[str, FieldMeta] = field(default_factory=dict)  # its screen's, when asked


class MissingFields(RemoteError):
    """Jira needs fields cockpit has no value for (createmeta, a transition's screen)."""


def _path_key(key: str) -> str:
    return quote(key, safe="")


def jql_string(value: str) -> str:
    """`value` as a quoted JQL string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def label(value: str) -> str:
    """`value` as a Jira label (labels cannot hold spaces)."""
    return re.sub(r"\s+", "-", sanitize(value, single_line=True).strip())[:255]


class JiraClient(ApiClient):
    system = "Jira"
    auth_hint = "check the Jira email and API token (id.atlassian.com → Security → API tokens)"

    def __init__(self, url: str, email: str, token: str, **kwargs: Any) -> None:
        """`kwargs` go to `ApiClient` (transport, sleep, clock, retry, deadline, …)."""
        basic = base64.b64encode(f"{email}:{token}".encode()).decode("ascii")
        super().__init__(
            url, headers={"Authorization": f"Basic {basic}"}, secrets=(token, basic), **kwargs
        )

    def browse_url(self, key: str) -> str:
        return f"{self.base_url}/browse/{key}"

    # -- errors ---------------------------------------------------------------------------
    def error_for_status(self, reply: Reply, body: bytes, content_type: str) -> RemoteError:
        messages = _jira_messages(reply.data)
        status = reply.status
        if status == 401:
            what = "the email or API token was refused"
        elif status == 403:
            what = "the account is not allowed to do this"
        elif status == 404:
            what = "not found"
        elif status == 409:
            what = "the issue is being changed by someone else"
        else:
            what = "refused the request"
        if messages:
            what = f"{what}: {messages}"
        elif status not in (401, 403, 404):
            return super().error_for_status(reply, body, content_type)
        hints = {
            401: self.auth_hint,
            403: "ask a Jira admin for the project permission",
            404: "check the issue key, the project and the Jira URL",
            409: "try again in a moment",
        }
        return self.error(
            what,
            hint=hints.get(status, "check the fields the ticket needs"),
            status=status,
            retryable=status == 409,
        )

    # -- calls ----------------------------------------------------------------------------
    async def myself(self) -> JiraUser:
        reply = await self.request("GET", f"{API}/myself")
        doc = reply.as_dict()
        return JiraUser(
            account_id=sanitize(require(doc, "accountId", str, reply), single_line=True),
            display_name=sanitize(doc.get("displayName") or "", single_line=True),
            email=sanitize(doc.get("emailAddress") or "", single_line=True),
        )

    async def create_issue(
        self,
        project: str,
        summary: str,
        description_adf: Mapping[str, Any],
        issue_type: str = "Task",
        labels: Iterable[str] = (),
        *,
        properties: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> CreatedIssue:
        """Create an issue; `properties` are stored as issue entity properties with it,
        `extra` are more fields (priority, custom fields, components), by field id."""
        fields: dict[str, Any] = {
            **dict(extra or {}),
            "project": {"key": project},
            "summary": sanitize(summary, single_line=True)[:255],
            "issuetype": {"name": issue_type},
            "description": dict(description_adf),
        }
        clean_labels = list(dict.fromkeys(lb for lb in (label(x) for x in labels) if lb))
        if clean_labels:
            fields["labels"] = clean_labels
        body: dict[str, Any] = {"fields": fields}
        if properties:
            body["properties"] = [{"key": k, "value": v} for k, v in properties.items()]
        reply = await self.request("POST", f"{API}/issue", json_body=body)
        doc = reply.as_dict()
        key = sanitize(require(doc, "key", str, reply), single_line=True)
        return CreatedIssue(key=key, id=str(doc.get("id", "")), url=self.browse_url(key))

    async def get_issue(
        self, key: str, fields: Iterable[str] = ("summary", "status", "labels")
    ) -> Issue:
        reply = await self.request(
            "GET", f"{API}/issue/{_path_key(key)}", params={"fields": ",".join(fields)}
        )
        return self._issue(reply.as_dict(), reply)

    def _issue(self, doc: Mapping[str, Any], reply: Reply) -> Issue:
        key = sanitize(require(doc, "key", str, reply), single_line=True)
        raw_fields = doc.get("fields") if isinstance(doc.get("fields"), dict) else {}
        fields = sanitize_tree(raw_fields)
        assert isinstance(fields, dict)
        status = fields.get("status")
        labels = fields.get("labels")
        return Issue(
            key=key,
            id=str(doc.get("id", "")),
            url=self.browse_url(key),
            summary=sanitize(fields.get("summary") or "", single_line=True),
            status=str(status.get("name", "")) if isinstance(status, dict) else "",
            labels=tuple(x for x in labels if isinstance(x, str))
            if isinstance(labels, list)
            else (),
            fields=fields,
        )

    async def status_changes(self, key: str, *, limit: int = 1000) -> list[StatusChange]:
        """The issue's status moves, oldest first (its changelog, page by page; the other
        fields' changes are left out)."""
        out: list[StatusChange] = []
        start = 0
        while start < limit:
            reply = await self.request(
                "GET",
                f"{API}/issue/{_path_key(key)}/changelog",
                params={"startAt": start, "maxResults": 100},
            )
            doc = reply.as_dict()
            values = doc.get("values")
            if not isinstance(values, list) or not values:
                break
            for v in values:
                if not isinstance(v, dict) or not isinstance(v.get("items"), list):
                    continue
                author = v.get("author")
                by = author.get("accountId") if isinstance(author, dict) else ""
                for change in v["items"]:
                    if isinstance(change, dict) and change.get("field") == "status":
                        out.append(
                            StatusChange(
                                at=jira_time(v.get("created")),
                                before=_text(change.get("fromString")),
                                after=_text(change.get("toString")),
                                by=_text(by),
                            )
                        )
            start += len(values)
            if doc.get("isLast") is True or start >= int(doc.get("total") or 0):
                break
        return out

    async def search(
        self,
        jql: str,
        fields: Iterable[str] = ("summary", "status", "labels"),
        *,
        max_results: int = 50,
        limit: int = 500,
    ) -> list[Issue]:
        """Issues matching `jql` (POST /search/jql, following nextPageToken)."""
        out: list[Issue] = []
        token: str | None = None
        while len(out) < limit:
            body: dict[str, Any] = {"jql": jql, "fields": list(fields), "maxResults": max_results}
            if token:
                body["nextPageToken"] = token
            reply = await self.request("POST", f"{API}/search/jql", json_body=body, idempotent=True)
            doc = reply.as_dict()
            issues = doc.get("issues", [])
            if not isinstance(issues, list):
                raise reply.shape_error("'issues' is not a list")
            out.extend(self._issue(i, reply) for i in issues if isinstance(i, dict))
            token = doc.get("nextPageToken") if isinstance(doc.get("nextPageToken"), str) else None
            if doc.get("isLast", True) is True or not token or not issues:
                break
        return out[:limit]

    async def issues_by_key(self, keys: Iterable[str], fields: Iterable[str]) -> list[Issue]:
        """These issues, fresh: one GET for one key, one search `key in (…)` for several
        (search's index may lag a write by a few seconds). A key Jira does not have (or
        not any more) is left out."""
        wanted = [k for k in dict.fromkeys(keys) if _ISSUE_KEY.fullmatch(k)]
        names = list(dict.fromkeys(fields))
        if not wanted:
            return []
        if len(wanted) == 1:
            reply = await self.request(
                "GET",
                f"{API}/issue/{_path_key(wanted[0])}",
                params={"fields": ",".join(names)},
                allow_status=(404,),
            )
            return [] if reply.status == 404 else [self._issue(reply.as_dict(), reply)]
        found: list[Issue] = []
        for n in range(0, len(wanted), 50):
            chunk = wanted[n : n + 50]
            jql = f"key in ({', '.join(chunk)})"
            try:
                found += await self.search(jql, names, max_results=50, limit=len(chunk))
            except RemoteError as e:
                if e.status != 400:
                    raise
                # Jira refuses the whole search for one key it does not know (deleted,
                # moved): each read on its own then, the unknown one left out
                for key in chunk:
                    found += await self.issues_by_key([key], names)
        return found

    async def search_by_label(
        self,
        value: str,
        *,
        project: str | None = None,
        fields: Iterable[str] = ("summary", "status", "labels"),
    ) -> list[Issue]:
        """Issues carrying label `value`, newest first (to find one we may have created)."""
        jql = f"labels = {jql_string(label(value))}"
        if project:
            jql = f"project = {jql_string(project)} AND {jql}"
        return await self.search(jql + " ORDER BY created DESC", fields)

    async def transitions(self, key: str, *, with_fields: bool = False) -> list[Transition]:
        """The transitions on offer for `key` now; `with_fields`: with their screens' fields."""
        params = {"expand": "transitions.fields"} if with_fields else None
        reply = await self.request(
            "GET", f"{API}/issue/{_path_key(key)}/transitions", params=params
        )
        items = reply.as_dict().get("transitions")
        if not isinstance(items, list):
            raise reply.shape_error("'transitions' is not a list")
        out: list[Transition] = []
        for t in items:
            if isinstance(t, dict) and isinstance(t.get("id"), str):
                raw_to = t.get("to")
                to: dict[str, Any] = raw_to if isinstance(raw_to, dict) else {}
                raw_fields = t.get("fields")
                out.append(
                    Transition(
                        id=t["id"],
                        name=sanitize(t.get("name") or "", single_line=True),
                        to_status=sanitize(to.get("name") or "", single_line=True),
                        fields=_field_metas(raw_fields) if isinstance(raw_fields, dict) else {},
                    )
                )
        return out

    async def transition_to(
        self,
        key: str,
        name: str,
        *,
        comment: Mapping[str, Any] | None = None,
        fields: Mapping[str, Any] | None = None,
        config_key: str = "",
    ) -> Transition | None:
        """Move `key` through the transition called `name` (case-insensitive).

        A transition is matched by its own name first, then by the name of the status it
        leads to. When none matches but the issue already is in status `name`, nothing
        is sent and None is returned (a repeat after an ambiguous failure is harmless).
        Otherwise `TransitionUnavailable` lists the names on offer.

        A transition with a screen gets the values in `fields` its screen has (others are
        not sent: Jira refuses a field not on the screen); a required one missing from
        `fields` is `MissingFields`, naming `config_key` (where its value goes).
        """
        wanted = name.strip().casefold()
        offered = await self.transitions(key, with_fields=True)
        chosen = next((t for t in offered if t.name.casefold() == wanted), None) or next(
            (t for t in offered if t.to_status.casefold() == wanted), None
        )
        if chosen is None:
            issue = await self.get_issue(key, fields=("status",))
            if issue.status.casefold() == wanted:
                return None
            names = ", ".join(t.name for t in offered) or "none"
            raise TransitionUnavailable(
                self.system,
                f"{key} cannot move to {shorten(name, 60)!r} from {issue.status or 'its status'}",
                available=[t.name for t in offered],
                hint=f"transitions on offer: {names}; set the name in [jira.transitions]",
                code="transition_not_found",
            )
        body: dict[str, Any] = {"transition": {"id": chosen.id}}
        given = dict(fields or {})
        missing = [
            f
            for f in chosen.fields.values()
            if f.required and not f.has_default and f.id not in given
        ]
        if missing:
            names = ", ".join(f"{f.name} ({f.id})" for f in missing)
            where = f"[{config_key}]" if config_key else "the transition's fields"
            example = _example(missing[0])
            raise MissingFields(
                self.system,
                f"the {chosen.name} transition of {key} asks for {names}",
                hint=f"set it in {where}, e.g. {example}",
                code="transition_screen",
            )
        screen = {k: v for k, v in given.items() if k in chosen.fields}
        if screen:
            body["fields"] = screen
        if comment is not None:
            body["update"] = {"comment": [{"add": {"body": dict(comment)}}]}
        await self.request("POST", f"{API}/issue/{_path_key(key)}/transitions", json_body=body)
        return chosen

    async def add_comment(
        self, key: str, adf: Mapping[str, Any], *, marker: str | None = None
    ) -> str:
        """Comment on `key`; returns the comment id. `marker` is kept as a comment property."""
        body: dict[str, Any] = {"body": dict(adf)}
        if marker:
            body["properties"] = [{"key": MARKER_PROPERTY, "value": {"marker": marker}}]
        reply = await self.request("POST", f"{API}/issue/{_path_key(key)}/comment", json_body=body)
        return str(require(reply.as_dict(), "id", str, reply))

    async def comments(
        self, key: str, *, with_properties: bool = False, limit: int = 500
    ) -> list[dict[str, Any]]:
        """The comments of `key`, oldest first (sanitized)."""
        out: list[dict[str, Any]] = []
        start = 0
        while len(out) < limit:
            params: dict[str, Any] = {"startAt": start, "maxResults": 100}
            if with_properties:
                params["expand"] = "properties"
            reply = await self.request(
                "GET", f"{API}/issue/{_path_key(key)}/comment", params=params
            )
            doc = reply.as_dict()
            page = doc.get("comments")
            if not isinstance(page, list):
                raise reply.shape_error("'comments' is not a list")
            cleaned = sanitize_tree([c for c in page if isinstance(c, dict)])
            assert isinstance(cleaned, list)
            out.extend(cleaned)
            total = doc.get("total")
            start += len(page)
            if not page or not isinstance(total, int) or start >= total:
                break
        return out

    async def find_comment_with_marker(self, key: str, marker: str) -> str | None:
        """The id of the comment on `key` added with `marker`, or None."""
        for c in await self.comments(key, with_properties=True):
            for prop in c.get("properties") or []:
                if (
                    isinstance(prop, dict)
                    and prop.get("key") == MARKER_PROPERTY
                    and isinstance(prop.get("value"), dict)
                    and prop["value"].get("marker") == marker
                ):
                    return str(c.get("id", ""))
        return None

    async def remote_link(
        self, key: str, url: str, title: str, *, global_id: str | None = None
    ) -> None:
        """Link `url` from the issue. Repeating it updates the same link (globalId)."""
        gid = global_id or (
            url if len(url) <= 255 else "cockpit:" + hashlib.sha256(url.encode()).hexdigest()
        )
        body = {
            "globalId": gid,
            "object": {"url": url, "title": sanitize(title, single_line=True)[:255] or url},
        }
        await self.request(
            "POST", f"{API}/issue/{_path_key(key)}/remotelink", json_body=body, idempotent=True
        )

    async def remote_links(self, key: str) -> list[tuple[str, str]]:
        """The issue's remote links: (url, title), sanitized (an http(s) URL only)."""
        reply = await self.request("GET", f"{API}/issue/{_path_key(key)}/remotelink")
        out = []
        for r in reply.as_list():
            obj = r.get("object") if isinstance(r, dict) else None
            if not isinstance(obj, dict) or not isinstance(obj.get("url"), str):
                continue
            url = sanitize(obj["url"], single_line=True).strip()
            if url.startswith(("https://", "http://")):
                title = obj.get("title") if isinstance(obj.get("title"), str) else ""
                out.append((url[:500], sanitize(title, single_line=True).strip()[:255]))
        return out

    async def link_issues(self, inward: str, outward: str, type_name: str = "Relates") -> None:
        body = {
            "type": {"name": type_name},
            "inwardIssue": {"key": inward},
            "outwardIssue": {"key": outward},
        }
        await self.request("POST", f"{API}/issueLink", json_body=body, idempotent=True)

    async def edit_fields(self, key: str, fields: Mapping[str, Any]) -> None:
        """Set fields of `key` (by field id, values as the REST API takes them)."""
        if fields:
            await self.request(
                "PUT",
                f"{API}/issue/{_path_key(key)}",
                json_body={"fields": dict(fields)},
                idempotent=True,
            )

    async def link_type_names(self) -> list[tuple[str, str, str]]:
        """The site's issue link types: (name, inward, outward) each."""
        reply = await self.request("GET", f"{API}/issueLinkType")
        items = reply.as_dict().get("issueLinkTypes")
        if not isinstance(items, list):
            raise reply.shape_error("'issueLinkTypes' is not a list")
        return [
            (
                sanitize(str(t.get("name") or ""), single_line=True),
                sanitize(str(t.get("inward") or ""), single_line=True),
                sanitize(str(t.get("outward") or ""), single_line=True),
            )
            for t in items
            if isinstance(t, dict) and t.get("name")
        ]

    async def create_meta(self, project: str, issue_type: str) -> CreateMeta:
        """What creating an `issue_type` (its name) in `project` takes: the create screen's
        fields, which are required, which have a default (createmeta)."""
        types = await self._pages(
            f"{API}/issue/createmeta/{_path_key(project)}/issuetypes", "issueTypes"
        )
        wanted = issue_type.strip().casefold()
        chosen = next(
            (t for t in types if str(t.get("name", "")).casefold() == wanted), None
        ) or next((t for t in types if str(t.get("id", "")) == issue_type.strip()), None)
        if chosen is None:
            names = ", ".join(sanitize(str(t.get("name", "")), single_line=True) for t in types)
            raise self.error(
                f"the project {project} has no issue type {shorten(issue_type, 60)!r}",
                hint=f"issue types there: {names or 'none'}; set issue_type in [jira]",
                code="issue_type_not_found",
            )
        raw = await self._pages(
            f"{API}/issue/createmeta/{_path_key(project)}/issuetypes/{_path_key(str(chosen['id']))}",
            "fields",
        )
        by_id = {str(f.get("fieldId") or f.get("key")): f for f in raw if isinstance(f, dict)}
        return CreateMeta(
            project, sanitize(str(chosen.get("name", "")), single_line=True), _field_metas(by_id)
        )

    async def _pages(self, path: str, key: str, *, limit: int = 1000) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        start = 0
        while len(out) < limit:
            reply = await self.request("GET", path, params={"startAt": start, "maxResults": 50})
            doc = reply.as_dict()
            page = doc.get(key)
            if not isinstance(page, list):
                raise reply.shape_error(f"{key!r} is not a list")
            out.extend(x for x in page if isinstance(x, dict))
            start += len(page)
            total = doc.get("total")
            if not page or not isinstance(total, int) or start >= total:
                break
        return out

    async def find_created(
        self, project: str, marker_label: str, *, probe: int = 200
    ) -> Issue | None:
        """The issue of `project` carrying label `marker_label`, even before search sees it.

        Search first (labels are indexed); but Cloud's index lags writes by seconds, so an
        issue made a moment ago may not be found there yet. Keys are handed out in order,
        so the issues made since the newest one search sees are read directly by key
        (always current), from there up until a few keys in a row do not exist."""
        found = await self.search_by_label(marker_label, project=project)
        if found:
            return found[0]
        newest = await self.search(
            f"project = {jql_string(project)} ORDER BY created DESC",
            ("labels",),
            max_results=1,
            limit=1,
        )
        number = 0
        if newest:
            tail = newest[0].key.rsplit("-", 1)[-1]
            number = int(tail) if tail.isdigit() else 0
        absent = 0
        for n in range(number + 1, number + 1 + probe):
            key = f"{project}-{n}"
            reply = await self.request(
                "GET",
                f"{API}/issue/{_path_key(key)}",
                params={"fields": "summary,status,labels"},
                allow_status=(404,),
            )
            if reply.status == 404:
                absent += 1
                if absent >= 3:
                    return None
                continue
            absent = 0
            issue = self._issue(reply.as_dict(), reply)
            if marker_label in issue.labels:
                return issue
        return None

    async def add_labels(self, key: str, labels: Iterable[str]) -> None:
        ops = [{"add": lb} for lb in (label(x) for x in labels) if lb]
        if not ops:
            return
        await self.request(
            "PUT", f"{API}/issue/{_path_key(key)}", json_body={"update": {"labels": ops}}
        )

    async def assign(self, key: str, account_id: str | None) -> None:
        """Assign `key` to `account_id` (None unassigns)."""
        await self.request(
            "PUT", f"{API}/issue/{_path_key(key)}/assignee", json_body={"accountId": account_id}
        )

    async def set_property(self, key: str, prop: str, value: Any) -> None:
        await self.request(
            "PUT", f"{API}/issue/{_path_key(key)}/properties/{_path_key(prop)}", json_body=value
        )

    async def get_property(self, key: str, prop: str) -> Any:
        """The value of issue property `prop` (sanitized), or None when it is not set."""
        reply = await self.request(
            "GET", f"{API}/issue/{_path_key(key)}/properties/{_path_key(prop)}", allow_status=(404,)
        )
        if reply.status == 404:
            return None
        return sanitize_tree(reply.as_dict().get("value"))


def _field_metas(raw: Mapping[str, Any]) -> dict[str, FieldMeta]:
    """FieldMetadata objects by field id, read defensively (sanitized)."""
    out: dict[str, FieldMeta] = {}
    for fid, f in raw.items():
        if not isinstance(f, dict):
            continue
        allowed = []
        for v in f.get("allowedValues") or []:
            if isinstance(v, dict):
                shown = v.get("name") or v.get("value") or v.get("key") or v.get("id")
                if shown is not None:
                    allowed.append(sanitize(str(shown), single_line=True))
        clean_id = sanitize(str(f.get("fieldId") or f.get("key") or fid), single_line=True)
        out[clean_id] = FieldMeta(
            id=clean_id,
            name=sanitize(str(f.get("name") or clean_id), single_line=True),
            required=f.get("required") is True,
            has_default=f.get("hasDefaultValue") is True,
            allowed=tuple(allowed),
        )
    return out


def _example(f: FieldMeta) -> str:
    """A config line that would give `f` a value (its first allowed value as example)."""
    first = f.allowed[0] if f.allowed else "..."
    if f.id.startswith("customfield_"):
        return f'{f.id} = {{ value = "{first}" }}'
    return f'{f.id} = {{ name = "{first}" }}'


def _jira_messages(doc: object) -> str:
    """Jira's {"errorMessages": [...], "errors": {field: message}} as one short line."""
    if not isinstance(doc, dict):
        return ""
    parts: list[str] = []
    msgs = doc.get("errorMessages")
    if isinstance(msgs, list):
        parts.extend(str(m) for m in msgs if m)
    errs = doc.get("errors")
    if isinstance(errs, dict):
        parts.extend(f"{k}: {v}" for k, v in errs.items())
    if not parts and isinstance(doc.get("message"), str):
        parts.append(doc["message"])
    return shorten("; ".join(parts), 240)


def _text(value: object) -> str:
    """A remote value read as one line of text ("" if it is not text)."""
    return sanitize(value, single_line=True)[:200] if isinstance(value, str) else ""

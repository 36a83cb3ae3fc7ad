"""The Statuspage v1 endpoints cockpit uses, at `<base>/v1/pages/<page_id>/...`.

`Authorization: OAuth <key>` (or `?api_key=`) is required, and only a key the range knows
works (tokens.py; an unknown, revoked or refused one gets 401 "Could not authenticate"). Each
key is held to Statuspage's "1 request / second as measured on a 60 second rolling window"
(faults.py `STRICT_LIMITS`, unless the range runs `lenient`): over it, 420, as Statuspage
answers ("Error codes 420 or 429"). Lists of incidents are newest first. One page
(`PAGE_ID`) with four components (Website, API, Payments, Search). Incidents go
investigating → identified → monitoring → resolved (any order, as on the real service);
each create or update with a status change or a body appends an incident update, and
`components: {id: status}` changes the page's components and is recorded in the update's
`affected_components`. Paths may end in `.json`, as Statuspage allows.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from cockpit.sandbox.faults import RateLimiter
from cockpit.sandbox.state import (
    COMPONENT_STATUSES,
    IMPACTS,
    PAGE_ID,
    REALTIME_STATUSES,
    SCHEDULED_STATUSES,
    Request,
    Response,
    SandboxState,
    iso_z,
)

JSON = dict[str, Any]
_IMPACT_OF = {
    "major_outage": "critical",
    "partial_outage": "major",
    "degraded_performance": "minor",
    "under_maintenance": "maintenance",
}
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


class StatuspageError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self) -> Response:
        return Response.json(self.status, {"message": self.message})


_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (m, re.compile("^" + p + "$"), name)
    for m, p, name in (
        ("GET", r"", "get_page"),
        ("GET", r"/components", "list_components"),
        ("GET", r"/components/([a-z0-9]+)", "get_component"),
        ("PATCH", r"/components/([a-z0-9]+)", "update_component"),
        ("PUT", r"/components/([a-z0-9]+)", "update_component"),
        ("GET", r"/incidents", "list_incidents"),
        ("POST", r"/incidents", "create_incident"),
        ("GET", r"/incidents/unresolved", "list_unresolved"),
        ("GET", r"/incidents/([a-z0-9]+)", "get_incident"),
        ("PATCH", r"/incidents/([a-z0-9]+)", "update_incident"),
        ("PUT", r"/incidents/([a-z0-9]+)", "update_incident"),
        ("DELETE", r"/incidents/([a-z0-9]+)", "delete_incident"),
    )
]


class StatuspageAPI:
    PREFIX = "/v1/pages/"

    def __init__(self, state: SandboxState, limiter: RateLimiter | None = None) -> None:
        self.state = state
        self.limiter = limiter  # per API key (key "statuspage:<key>", limit "statuspage")

    def handle(self, request: Request) -> Response:
        key = ""
        auth = request.header("Authorization")
        if auth.lower().startswith("oauth "):
            key = auth[6:].strip()
        key = key or (request.arg("api_key") or "").strip()
        if not key or key in self.state.refused_tokens or not self.state.tokens.statuspage(key):
            return Response.json(401, {"message": "Could not authenticate"})
        if self.limiter is not None:
            wait = self.limiter.hit(f"statuspage:{key}", "statuspage")
            if wait is not None:
                return self.limiter.refusal(f"statuspage:{key}", "statuspage", wait, "statuspage")
        rest = request.path[len(self.PREFIX) :]
        if rest.endswith(".json"):
            rest = rest[:-5]
        page_id, _, sub = rest.partition("/")
        if page_id != PAGE_ID:
            return Response.json(404, {"message": "The requested resource could not be found."})
        sub = "/" + sub if sub else ""
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
                    return handler(request, *match.groups())
            except StatuspageError as err:
                return err.response()
        if allowed:
            return Response.json(405, {"message": "Method not allowed"})
        return Response.json(404, {"message": "The requested resource could not be found."})

    # -- helpers --------------------------------------------------------------------------
    def _new_id(self) -> str:
        """A 12-character id like Statuspage's, deterministic per sandbox run."""
        n = self.state.next_id("statuspage-object")
        digest = int.from_bytes(hashlib.sha256(f"statuspage:{n}".encode()).digest()[:10], "big")
        chars = []
        for _ in range(12):
            digest, r = divmod(digest, len(_ID_ALPHABET))
            chars.append(_ID_ALPHABET[r])
        return "".join(chars)

    def _body(self, request: Request, root: str) -> JSON:
        try:
            body = json.loads(request.body) if request.body else None
        except (ValueError, UnicodeDecodeError) as exc:
            raise StatuspageError(400, "The request body is not valid JSON") from exc
        if not isinstance(body, dict) or not isinstance(body.get(root), dict):
            raise StatuspageError(400, f"{root} is missing")
        inner: JSON = body[root]
        return inner

    def _incident(self, incident_id: str) -> JSON:
        incident = self.state.sp_incidents.get(incident_id)
        if incident is None:
            raise StatuspageError(404, "The requested resource could not be found.")
        return incident

    def _component_changes(self, body: JSON) -> dict[str, str]:
        changes = body.get("components") or {}
        ids = body.get("component_ids") or []
        if not isinstance(changes, dict) or not isinstance(ids, list):
            raise StatuspageError(422, "components must be an object and component_ids a list")
        for cid, status in changes.items():
            if cid not in self.state.components:
                raise StatuspageError(422, f"Component {cid} not found")
            if status not in COMPONENT_STATUSES:
                raise StatuspageError(
                    422,
                    f"Component status '{status}' is not one of {', '.join(COMPONENT_STATUSES)}",
                )
        for cid in ids:
            if cid not in self.state.components:
                raise StatuspageError(422, f"Component {cid} not found")
        return {str(k): str(v) for k, v in changes.items()}

    def _apply_components(
        self, incident: JSON, changes: dict[str, str], ids: list[str]
    ) -> list[JSON]:
        now = iso_z(self.state.now())
        affected = []
        for cid, status in changes.items():
            comp = self.state.components[cid]
            affected.append(
                {
                    "code": cid,
                    "name": comp["name"],
                    "old_status": comp["status"],
                    "new_status": status,
                }
            )
            comp["status"] = status
            comp["updated_at"] = now
        involved = [c["id"] for c in incident["components"]]
        for cid in [*ids, *changes]:
            if cid not in involved:
                involved.append(cid)
        incident["components"] = [self.state.components[c] for c in involved]
        return affected

    def _impact(self, incident: JSON) -> str:
        if incident.get("impact_override"):
            return str(incident["impact_override"])
        worst = "none"
        for comp in incident["components"]:
            impact = _IMPACT_OF.get(comp["status"], "none")
            if IMPACTS.index(impact) > IMPACTS.index(worst):
                worst = impact
        return worst

    def _update(
        self, incident: JSON, status: str, body: str, affected: list[JSON], deliver: bool
    ) -> JSON:
        now = iso_z(self.state.now())
        return {
            "id": self._new_id(),
            "incident_id": incident["id"],
            "status": status,
            "body": body,
            "created_at": now,
            "updated_at": now,
            "display_at": now,
            "affected_components": affected,
            "deliver_notifications": deliver,
            "custom_tweet": None,
            "tweet_id": None,
            "twitter_updated_at": None,
            "wants_twitter_update": False,
        }

    def _render(self, incident: JSON) -> JSON:
        out = dict(incident)
        out["components"] = [dict(c) for c in incident["components"]]
        out["incident_updates"] = [dict(u) for u in incident["incident_updates"]]
        out["impact"] = self._impact(incident)
        return out

    def _validate_common(self, body: JSON) -> None:
        status = body.get("status")
        if status is not None and status not in REALTIME_STATUSES:
            if status in SCHEDULED_STATUSES:
                raise StatuspageError(
                    422,
                    f"Status '{status}' is only valid for scheduled "
                    "maintenances; the drill range has none",
                )
            raise StatuspageError(422, f"Status '{status}' is not a valid incident status")
        override = body.get("impact_override")
        if override is not None and override not in IMPACTS:
            raise StatuspageError(422, f"impact_override '{override}' is not valid")
        name = body.get("name")
        if name is not None and (not isinstance(name, str) or len(name) > 255):
            raise StatuspageError(422, "Name is too long (maximum is 255 characters)")
        text = body.get("body")
        if text is not None and (not isinstance(text, str) or len(text) > 25000):
            raise StatuspageError(422, "Body is too long (maximum is 25000 characters)")
        metadata = body.get("metadata")
        if metadata is not None and (
            not isinstance(metadata, dict)
            or not all(isinstance(v, dict) for v in metadata.values())
        ):
            raise StatuspageError(422, "metadata top level values must be objects")

    # -- page and components --------------------------------------------------------------
    def get_page(self, request: Request) -> Response:
        return Response.json(200, self.state.page)

    def list_components(self, request: Request) -> Response:
        comps = sorted(self.state.components.values(), key=lambda c: c["position"])
        return Response.json(200, comps)

    def get_component(self, request: Request, cid: str) -> Response:
        comp = self.state.components.get(cid)
        if comp is None:
            raise StatuspageError(404, "The requested resource could not be found.")
        return Response.json(200, comp)

    def update_component(self, request: Request, cid: str) -> Response:
        comp = self.state.components.get(cid)
        if comp is None:
            raise StatuspageError(404, "The requested resource could not be found.")
        body = self._body(request, "component")
        status = body.get("status")
        if status is not None and status not in COMPONENT_STATUSES:
            raise StatuspageError(422, f"Component status '{status}' is not valid")
        for k in ("status", "name", "description"):
            if k in body:
                comp[k] = body[k]
        comp["updated_at"] = iso_z(self.state.now())
        return Response.json(200, comp)

    # -- incidents ------------------------------------------------------------------------
    def _newest_first(self) -> list[JSON]:
        # by creation time, and the later created first among those in the same millisecond
        newest = list(reversed(self.state.sp_incidents.values()))
        return sorted(newest, key=lambda i: i["created_at"], reverse=True)

    def list_incidents(self, request: Request) -> Response:
        incidents = self._newest_first()
        q = (request.arg("q") or "").strip().lower()
        if q:
            incidents = [
                i
                for i in incidents
                if q in i["name"].lower()
                or q in i["status"]
                or q in (i.get("postmortem_body") or "").lower()
                or any(q in u["body"].lower() for u in i["incident_updates"])
            ]
        try:
            limit = min(int(request.arg("limit") or 100), 100)
            page = max(int(request.arg("page") or 1), 1)
        except ValueError as exc:
            raise StatuspageError(400, "limit and page must be numbers") from exc
        start = (page - 1) * limit
        return Response.json(200, [self._render(i) for i in incidents[start : start + limit]])

    def list_unresolved(self, request: Request) -> Response:
        incidents = [self._render(i) for i in self._newest_first() if i["status"] != "resolved"]
        return Response.json(200, incidents)

    def get_incident(self, request: Request, incident_id: str) -> Response:
        return Response.json(200, self._render(self._incident(incident_id)))

    def create_incident(self, request: Request) -> Response:
        body = self._body(request, "incident")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise StatuspageError(422, "Name can't be blank")
        self._validate_common(body)
        if body.get("scheduled_for"):
            raise StatuspageError(422, "Scheduled maintenances are not part of the drill range")
        changes = self._component_changes(body)
        now = iso_z(self.state.now())
        status = body.get("status") or "investigating"
        incident_id = self._new_id()
        incident: JSON = {
            "id": incident_id,
            "name": name,
            "status": status,
            "created_at": now,
            "updated_at": now,
            "started_at": now,
            "monitoring_at": None,
            "resolved_at": None,
            "impact": "none",
            "impact_override": body.get("impact_override"),
            "shortlink": f"https://stspg.io/{incident_id[:7]}",
            "page_id": PAGE_ID,
            "incident_updates": [],
            "components": [],
            "incident_impacts": [],
            "metadata": body.get("metadata") or {},
            "postmortem_body": None,
            "postmortem_body_last_updated_at": None,
            "postmortem_ignored": False,
            "postmortem_notified_subscribers": False,
            "postmortem_notified_twitter": False,
            "postmortem_published_at": None,
            "scheduled_for": None,
            "scheduled_until": None,
            "scheduled_remind_prior": False,
            "scheduled_reminded_at": None,
            "scheduled_auto_in_progress": False,
            "scheduled_auto_completed": False,
            "reminder_intervals": body.get("reminder_intervals"),
        }
        affected = self._apply_components(incident, changes, list(body.get("component_ids") or []))
        self._mark_times(incident, status, now)
        incident["incident_updates"].insert(
            0,
            self._update(
                incident,
                status,
                str(body.get("body") or ""),
                affected,
                bool(body.get("deliver_notifications", True)),
            ),
        )
        incident["impact"] = self._impact(incident)
        self.state.sp_incidents[incident_id] = incident
        return Response.json(201, self._render(incident))

    def update_incident(self, request: Request, incident_id: str) -> Response:
        incident = self._incident(incident_id)
        body = self._body(request, "incident")
        self._validate_common(body)
        changes = self._component_changes(body)
        now = iso_z(self.state.now())
        for k in ("name", "impact_override", "reminder_intervals"):
            if k in body:
                incident[k] = body[k]
        if "metadata" in body:
            incident["metadata"] = body["metadata"] or {}
        before = incident["status"]
        status = body.get("status") or before
        incident["status"] = status
        affected = self._apply_components(incident, changes, list(body.get("component_ids") or []))
        self._mark_times(incident, status, now)
        if status != before or body.get("body") or affected:
            incident["incident_updates"].insert(
                0,
                self._update(
                    incident,
                    status,
                    str(body.get("body") or ""),
                    affected,
                    bool(body.get("deliver_notifications", True)),
                ),
            )
        incident["impact"] = self._impact(incident)
        incident["updated_at"] = now
        return Response.json(200, self._render(incident))

    def delete_incident(self, request: Request, incident_id: str) -> Response:
        incident = self._incident(incident_id)
        del self.state.sp_incidents[incident_id]
        return Response.json(200, self._render(incident))

    @staticmethod
    def _mark_times(incident: JSON, status: str, now: str) -> None:
        if status == "monitoring" and not incident.get("monitoring_at"):
            incident["monitoring_at"] = now
        if status == "resolved":
            incident["resolved_at"] = incident.get("resolved_at") or now
        else:
            incident["resolved_at"] = None

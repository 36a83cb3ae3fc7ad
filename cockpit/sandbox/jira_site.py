"""How the drill range's Jira site is set up, as a real team's is: fields, screens and the
search index.

* **Fields.** The system fields cockpit and the official clients meet (`/field`), the
  priorities, resolutions and issue link types, and one custom field: Severity
  (`customfield_10042`, a single select of Critical / Major / Minor).
* **Create screens**, per project (`ProjectSetup`): which fields an issue may be created
  with (any other is Cloud's 400 "Field 'x' cannot be set. It is not on the appropriate
  screen, or unknown."), which are required ("Priority is required."), which have a
  default value. INCIDENT requires Priority and Severity; BUG (follow-ups) requires
  nothing but the summary and gives Priority a default of Medium.
* **Transition screens**: a transition with a screen asks for its fields (every one
  required, as Resolution is in Jira): INCIDENT's RESOLVED and CANCELED, BUG's Done.
* **The search index lags writes**: an issue created or changed shows in JQL search only
  `search_lag` seconds later, with the values it had then (Cloud's index is eventually
  consistent); reading an issue by key is always current. Tests set 0.

A scenario's `[jira]` table changes any of it (`apply_scenario`, parsed by
`parse_jira_table`):

    [jira]
    search_lag = 3                      # seconds before a write shows in search
    [jira.projects.INCIDENT]
    required = ["priority", "customfield_10042"]   # besides project, issue type, summary
    defaults = { priority = "Medium" }             # fields Jira fills when not sent
    screens = { RESOLVED = ["resolution"], CANCELED = ["resolution"] }  # [] = no screen
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]

DEFAULT_SEARCH_LAG = 3.0
SEVERITY_FIELD = "customfield_10042"

# The fields of the site, by id: (name, schema, JQL clause names, orderable/navigable).
SYSTEM_FIELDS: dict[str, tuple[str, JSON]] = {
    "summary": ("Summary", {"type": "string", "system": "summary"}),
    "description": ("Description", {"type": "string", "system": "description"}),
    "issuetype": ("Issue Type", {"type": "issuetype", "system": "issuetype"}),
    "project": ("Project", {"type": "project", "system": "project"}),
    "labels": ("Labels", {"type": "array", "items": "string", "system": "labels"}),
    "priority": ("Priority", {"type": "priority", "system": "priority"}),
    "components": (
        "Components",
        {"type": "array", "items": "component", "system": "components"},
    ),
    "assignee": ("Assignee", {"type": "user", "system": "assignee"}),
    "reporter": ("Reporter", {"type": "user", "system": "reporter"}),
    "environment": ("Environment", {"type": "string", "system": "environment"}),
    "duedate": ("Due date", {"type": "date", "system": "duedate"}),
    "status": ("Status", {"type": "status", "system": "status"}),
    "resolution": ("Resolution", {"type": "resolution", "system": "resolution"}),
    "resolutiondate": ("Resolved", {"type": "datetime", "system": "resolutiondate"}),
    "created": ("Created", {"type": "datetime", "system": "created"}),
    "updated": ("Updated", {"type": "datetime", "system": "updated"}),
    "issuelinks": (
        "Linked Issues",
        {"type": "array", "items": "issuelinks", "system": "issuelinks"},
    ),
    "comment": ("Comment", {"type": "comments-page", "system": "comment"}),
    "fixVersions": ("Fix versions", {"type": "array", "items": "version", "system": "fixVersions"}),
}
# fields that cannot be given on create or edit whatever the screen says
READ_ONLY = frozenset(
    {"status", "resolutiondate", "created", "updated", "issuelinks", "comment", "resolution"}
)

RESOLUTIONS: dict[str, JSON] = {
    "Done": {"id": "10000", "description": "Work has been completed on this issue."},
    "Won't Do": {"id": "10001", "description": "This issue won't be actioned."},
    "Duplicate": {"id": "10002", "description": "The problem is a duplicate of an existing issue."},
    "Cannot Reproduce": {
        "id": "10003",
        "description": "All attempts at reproducing this issue failed.",
    },
}


@dataclass(frozen=True)
class CustomField:
    id: str  # customfield_10042
    name: str
    options: tuple[str, ...]  # a single select's option values

    @property
    def number(self) -> int:
        return int(self.id.rsplit("_", 1)[1])

    def option_id(self, value: str) -> str:
        return str(self.number * 10 + 1 + self.options.index(value))

    def schema(self) -> JSON:
        return {
            "type": "option",
            "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select",
            "customId": self.number,
        }


CUSTOM_FIELDS: dict[str, CustomField] = {
    SEVERITY_FIELD: CustomField(SEVERITY_FIELD, "Severity", ("Critical", "Major", "Minor")),
}

# the fields a project's create screen can hold (besides its custom fields)
CREATE_SCREEN = (
    "summary",
    "issuetype",
    "project",
    "description",
    "labels",
    "priority",
    "components",
    "assignee",
    "reporter",
    "environment",
    "duedate",
)
ALWAYS_REQUIRED = ("project", "issuetype", "summary")


@dataclass
class ProjectSetup:
    """A project's screens: what creating an issue takes, what each transition asks."""

    create_fields: tuple[str, ...]
    required: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)  # field id → a value as stored
    screens: dict[str, tuple[str, ...]] = field(default_factory=dict)  # transition → fields
    components: tuple[str, ...] = ()

    def is_required(self, field_id: str) -> bool:
        return field_id in ALWAYS_REQUIRED or field_id in self.required


def default_setups() -> dict[str, ProjectSetup]:
    return {
        "INCIDENT": ProjectSetup(
            create_fields=(*CREATE_SCREEN, SEVERITY_FIELD),
            required=("priority", SEVERITY_FIELD),
            defaults={},
            screens={"RESOLVED": ("resolution",), "CANCELED": ("resolution",)},
            components=("API", "Checkout", "Payments", "Search", "Website"),
        ),
        "BUG": ProjectSetup(
            create_fields=CREATE_SCREEN,
            required=(),
            defaults={"priority": "Medium"},
            screens={"Done": ("resolution",)},
            components=("Backend", "Frontend", "Payments", "Search"),
        ),
    }


class SearchIndex:
    """What JQL search sees: each issue as it was `lag` seconds ago (or not at all)."""

    def __init__(self, lag: float) -> None:
        self.lag = lag
        self._versions: dict[str, list[tuple[float, Any]]] = {}

    def record(self, key: str, issue: Any, at: float) -> None:
        """`issue` (a JiraIssue) was written at `at`: a copy joins the index then + lag."""
        versions = self._versions.setdefault(key, [])
        versions.append((at, copy.deepcopy(issue)))

    def visible(self, key: str, current: Any, now: float) -> Any | None:
        """The version of issue `key` search sees at `now` (None: not yet indexed)."""
        if self.lag <= 0:
            return current
        versions = self._versions.get(key)
        if not versions:
            return current  # an issue put there by a scenario or a test: indexed long ago
        seen = None
        keep = 0
        for i, (at, version) in enumerate(versions):
            if at + self.lag <= now:
                seen, keep = version, i
        if keep:
            del versions[:keep]  # older versions can never be seen again
        return seen


class JiraSite:
    """The site's setup (see the module's docstring) and its search index."""

    def __init__(self, search_lag: float = DEFAULT_SEARCH_LAG) -> None:
        self.setups = default_setups()
        self.custom_fields: dict[str, CustomField] = dict(CUSTOM_FIELDS)
        self.index = SearchIndex(search_lag)

    @property
    def search_lag(self) -> float:
        return self.index.lag

    @search_lag.setter
    def search_lag(self, value: float) -> None:
        self.index.lag = max(0.0, float(value))

    def setup(self, project: str) -> ProjectSetup:
        found = self.setups.get(project)
        if found is None:
            found = self.setups[project] = ProjectSetup(create_fields=CREATE_SCREEN)
        return found

    def field_name(self, field_id: str) -> str:
        if field_id in self.custom_fields:
            return self.custom_fields[field_id].name
        if field_id in SYSTEM_FIELDS:
            return SYSTEM_FIELDS[field_id][0]
        return field_id

    def describe(self) -> JSON:
        """For the state snapshot."""
        return {
            "search_lag": self.search_lag,
            "projects": {
                key: {
                    "required": list(s.required),
                    "defaults": dict(s.defaults),
                    "screens": {t: list(f) for t, f in s.screens.items()},
                    "components": list(s.components),
                }
                for key, s in self.setups.items()
            },
        }

    def apply_scenario(self, table: Mapping[str, Any]) -> None:
        """A scenario's parsed `[jira]` table (see `parse_jira_table`)."""
        if "search_lag" in table:
            self.search_lag = table["search_lag"]
        for key, p in table.get("projects", {}).items():
            s = self.setup(key)
            if "required" in p:
                s.required = tuple(p["required"])
                for f in s.required:
                    if f not in s.create_fields:
                        s.create_fields = (*s.create_fields, f)
            if "defaults" in p:
                s.defaults = dict(p["defaults"])
            if "screens" in p:
                s.screens = {t: tuple(f) for t, f in p["screens"].items()}
            if "components" in p:
                s.components = tuple(p["components"])


def parse_jira_table(value: Any, bad: Callable[[str], Exception]) -> JSON:
    """A scenario's `[jira]` table, checked (`bad(message)` makes the error to raise)."""
    if not isinstance(value, dict):
        raise bad("'jira' must be a table ([jira])")
    unknown = set(value) - {"search_lag", "projects"}
    if unknown:
        raise bad(
            f"[jira]: unknown key(s) {', '.join(sorted(unknown))} (expected search_lag, projects)"
        )
    out: JSON = {}
    if "search_lag" in value:
        lag = value["search_lag"]
        if isinstance(lag, bool) or not isinstance(lag, int | float) or not 0 <= lag <= 600:
            raise bad("[jira] search_lag must be a number of seconds from 0 to 600")
        out["search_lag"] = float(lag)
    projects = value.get("projects", {})
    if not isinstance(projects, dict):
        raise bad("[jira.projects] must be a table of projects")
    known_fields = set(CREATE_SCREEN) | set(CUSTOM_FIELDS)
    out["projects"] = {}
    for key, p in projects.items():
        where = f"[jira.projects.{key}]"
        if key not in ("INCIDENT", "BUG"):
            raise bad(f"{where}: the drill range's projects are INCIDENT and BUG")
        if not isinstance(p, dict):
            raise bad(f"{where} must be a table")
        extra = set(p) - {"required", "defaults", "screens", "components"}
        if extra:
            raise bad(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
        entry: JSON = {}
        if "required" in p:
            req = p["required"]
            if not isinstance(req, list) or not all(isinstance(f, str) for f in req):
                raise bad(f"{where} required must be a list of field ids")
            unknown_f = [f for f in req if f not in known_fields]
            if unknown_f:
                raise bad(
                    f"{where} required: unknown field(s) {', '.join(unknown_f)} "
                    f"(known: {', '.join(sorted(known_fields))})"
                )
            entry["required"] = list(req)
        if "defaults" in p:
            defaults = p["defaults"]
            if not isinstance(defaults, dict) or not all(
                isinstance(v, str) for v in defaults.values()
            ):
                raise bad(f"{where} defaults must be a table of field id = value (strings)")
            entry["defaults"] = dict(defaults)
        if "screens" in p:
            screens = p["screens"]
            if not isinstance(screens, dict) or not all(
                isinstance(v, list) and all(isinstance(f, str) for f in v) for v in screens.values()
            ):
                raise bad(f"{where} screens must be a table of transition = [field ids]")
            entry["screens"] = {t: list(v) for t, v in screens.items()}
        if "components" in p:
            comps = p["components"]
            if not isinstance(comps, list) or not all(isinstance(c, str) for c in comps):
                raise bad(f"{where} components must be a list of names")
            entry["components"] = list(comps)
        out["projects"][key] = entry
    return out

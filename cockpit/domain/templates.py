"""Message templates: the context built from an incident, and the library that renders them.

Templates are Jinja files (`*.j2`) rendered in a sandbox (no autoescape,
`StrictUndefined`, `keep_trailing_newline`, `trim_blocks` and `lstrip_blocks`) with a time
and an output limit (1 s, 256 KB: `template_limits.py`), at the test render too. Each one
starts with a header comment that says what it is::

    {# kind: slack; title: Reply in the original thread; target: the #incidents thread;
       description: ... #}

(on one line). `kind` is one of `slack`, `statuspage` (public: lint it) or `internal`;
`target` is optional. The shipped templates live in `cockpit/templates/`; a user directory
may override one (same file name) or add new ones. A user template that does not compile,
or that fails a test render against a sample incident, is reported as a `TemplateProblem`
and the shipped one is used instead.

Templates see plain dicts, lists and strings only (see `TEMPLATE_VARIABLES`), never
domain objects, so the sandbox has very little to guard. Their output is untrusted text
and goes through `sanitize()`.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jinja2

from cockpit.domain.drafts import Draft
from cockpit.domain.errors import CockpitError, NotFound
from cockpit.domain.escape import escape_context, md_text, md_url, slack_escape
from cockpit.domain.incident import Assessment, Incident, Link, Links, Role, Severity, Status
from cockpit.domain.sanitize import sanitize
from cockpit.domain.template_limits import LimitedEnvironment
from cockpit.domain.timeline import EntryKind, TimelineEntry, sort_entries

TemplateKind = Literal["slack", "statuspage", "internal"]
KINDS: tuple[TemplateKind, ...] = ("slack", "statuspage", "internal")
Source = Literal["shipped", "user"]

# The order the shipped templates are listed in: the order the playbook needs them.
SHIPPED_ORDER = (
    "thread-reply",
    "kickoff",
    "not-an-incident",
    "statuspage-investigating",
    "statuspage-identified",
    "statuspage-monitoring",
    "statuspage-resolved",
    "stakeholder-update",
    "resolution-update",
    "handoff",
    "post-mortem",
)

SUFFIX = ".j2"


class TemplateError(CockpitError):
    """A template could not be found or rendered; the message names the file and line."""


@dataclass(frozen=True)
class TemplateProblem:
    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    kind: TemplateKind
    title: str
    description: str
    source: Source
    path: Path
    target: str = ""

    @property
    def public(self) -> bool:
        """True for text the whole world reads (lint it before it goes out)."""
        return self.kind == "statuspage"


# -- the context ----------------------------------------------------------------------
TEMPLATE_VARIABLES: dict[str, str] = {
    "id": "the incident's cockpit id",
    "title": "the incident's title (internal: never on the status page)",
    "summary": "what we know so far, free text (internal)",
    "severity": 'Critical / Major / Minor, or "unset"',
    "severity_value": 'critical / major / minor, or "" when unset',
    "is_critical": "true when the severity is Critical (a post mortem is required)",
    "status": "REPORTED / FIXING / MONITORING / RESOLVED / CANCELED",
    "status_value": "the same in lower case",
    "is_open, is_resolved, is_canceled": "booleans for the status",
    "cancel_reason": "why it is not an incident (canceled incidents)",
    "commander, comms": 'the Incident Commander and Communications Officer ("" if unassigned)',
    "recorded_by": "who recorded the incident in cockpit",
    "drill": "true for a drill",
    "links": "thread, channel, ticket, status_page: each {url, label, text} or none; "
    "follow_ups, bugs: lists of {url, label, text}",
    "ticket, ticket_url": 'the ticket key (or URL) and its URL, "" if none yet',
    "channel, channel_url": 'the incident channel (e.g. "#incident-12") and its URL, "" if none',
    "thread_url, status_page_url": 'URLs of the originating thread and public incident, or ""',
    "times": "reported, acknowledged, fixing, mitigated, resolved, canceled, last_update, "
    "now: each none or {local, utc, local_time, utc_time, both, both_full, iso}",
    "tz": "the local time zone's name",
    "duration": 'from the first report to resolution / cancellation (or now), e.g. "1h 25m"',
    "time_to_acknowledge": 'first report to tracked, e.g. "6m", or "" if not tracked yet',
    "next_update": 'none, or {in: "30 minutes", at: time} when the next update is due',
    "affected_components": "status-page components this incident affects (list of names)",
    "components": "all status-page components known",
    "public_name": "a public name for the status-page incident, built from the components",
    "assessment": "{affected, reproduced, known, reproduced_text, known_text, summary}",
    "recent_entries": "the last few timeline entries (checklist ticks left out)",
    "entries": "every timeline entry in event order: {kind, marker, text, author, link, "
    "backdated, edited, at, recorded_at} (at / recorded_at are times)",
    "open_incidents": "for hand-offs: {id, title, severity, status, commander, comms, ticket, "
    "channel, reported, duration, last_update, next_update}",
    "open_tasks": "for hand-offs: tasks still open (list of strings)",
    "needs": "what the responders need (unfilled roles plus what the caller passes)",
    "guide_url": "the guide to reporting bugs",
    "product_channel": "where product teams take non-incident reports",
    "filters": "and_list (A, B and C), linked (label (url)), yesno",
}


def format_duration(delta: timedelta, *, words: bool = False) -> str:
    """`1h 25m`, `2d 4h`, `6m` (or in words: `1 hour 25 minutes`); the two largest units."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return "under a minute" if words else "<1m"
    minutes = seconds // 60
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    units = [(days, "d", "day"), (hours, "h", "hour"), (mins, "m", "minute")]
    parts: list[str] = []
    for value, short, long in units:
        if value or parts:
            parts.append(
                f"{value} {long}{'s' if value != 1 else ''}" if words else f"{value}{short}"
            )
        if len(parts) == 2:
            break
    parts = [p for p in parts if not p.startswith("0")]
    return " ".join(parts)


def format_time(dt: datetime, tz: tzinfo) -> dict[str, str]:
    """One moment in every shape a template may want."""
    local = dt.astimezone(tz)
    u = dt.astimezone(UTC)
    local_time = local.strftime("%H:%M %Z").strip()
    utc_time = u.strftime("%H:%M UTC")
    local_full = local.strftime("%Y-%m-%d %H:%M %Z").strip()
    utc_full = u.strftime("%Y-%m-%d %H:%M UTC")
    return {
        "local": local_full,
        "utc": utc_full,
        "local_time": local_time,
        "utc_time": utc_time,
        # in UTC itself the bracket would only repeat the time
        "both": local_time if local_time == utc_time else f"{local_time} ({utc_time})",
        "both_full": local_full if local_time == utc_time else f"{local_full} ({utc_time})",
        "iso": u.isoformat(),
    }


def _maybe_time(dt: datetime | None, tz: tzinfo) -> dict[str, str] | None:
    return None if dt is None else format_time(dt, tz)


def _link(link: Link | None) -> dict[str, str] | None:
    if link is None or not (link.url or link.label):
        return None
    return {"url": link.url, "label": link.label, "text": link.label or link.url}


def _links(links: Links) -> dict[str, Any]:
    return {
        "thread": _link(links.thread),
        "channel": _link(links.channel),
        "ticket": _link(links.ticket),
        "status_page": _link(links.status_page),
        "follow_ups": [x for x in map(_link, links.follow_ups) if x is not None],
        "bugs": [x for x in map(_link, links.bugs) if x is not None],
    }


def _assessment(a: Assessment) -> dict[str, Any]:
    def yes_no(v: bool | None, yes: str, no: str) -> str:
        return "not known yet" if v is None else (yes if v else no)

    return {
        "affected": a.affected,
        "reproduced": a.reproduced,
        "known": a.known,
        "reproduced_text": yes_no(a.reproduced, "yes", "not yet"),
        "known_text": yes_no(a.known, "a known problem", "a new problem"),
        "summary": a.describe(),
    }


def _entry(e: TimelineEntry, tz: tzinfo) -> dict[str, Any]:
    return {
        "kind": e.kind.value,
        "marker": e.kind.marker,
        "text": e.text,
        "author": e.author,
        "link": e.link,
        "backdated": e.backdated,
        "edited": e.edited_at is not None,
        "at": format_time(e.event_at, tz),
        "recorded_at": format_time(e.recorded_at, tz),
    }


def and_list(items: Iterable[object]) -> str:
    """`A`, `A and B`, `A, B and C`."""
    xs = [str(x) for x in items if str(x)]
    if len(xs) <= 1:
        return "".join(xs)
    return ", ".join(xs[:-1]) + " and " + xs[-1]


def linked(link: Mapping[str, str] | None) -> str:
    """A link as a person pastes it anywhere: `INC-42 (https://…)`, or just the URL."""
    if not link:
        return ""
    url, label = link.get("url", ""), link.get("label", "")
    if label and url and label != url:
        return f"{label} ({url})"
    return url or label


def yesno(value: object, yes: str = "yes", no: str = "no", unknown: str = "not known") -> str:
    return unknown if value is None else (yes if value else no)


def _end(incident: Incident) -> datetime | None:
    if incident.status is Status.RESOLVED:
        return incident.resolved_at
    if incident.status is Status.CANCELED:
        return incident.canceled_at
    return None


def _summary_of(
    incident: Incident, *, now: datetime, tz: tzinfo, next_update_in: timedelta | None
) -> dict[str, Any]:
    end = _end(incident) or now
    last = incident.last_update_at
    ticket, channel = _link(incident.links.ticket), _link(incident.links.channel)
    due: datetime | None = None
    if incident.is_open and next_update_in is not None:
        due = (last or now) + next_update_in
    return {
        "id": incident.id,
        "title": incident.title,
        "severity": incident.severity.label if incident.severity else "unset",
        "status": incident.status.label,
        "commander": incident.commander,
        "comms": incident.comms,
        "ticket": ticket["text"] if ticket else "",
        "channel": channel["text"] if channel else "",
        "reported": format_time(incident.first_reported_at, tz),
        "duration": format_duration(end - incident.first_reported_at),
        "last_update": _maybe_time(last, tz),
        "next_update": _maybe_time(due, tz),
    }


def public_name(components: Sequence[str]) -> str:
    if not components:
        return "Service disruption"
    return f"Problems with {and_list(components)}"


def build_context(
    incident: Incident,
    entries: Sequence[TimelineEntry],
    *,
    now: datetime,
    tz: tzinfo,
    guide_url: str = "",
    product_channel: str = "",
    next_update_in: timedelta | None = timedelta(minutes=30),
    components: Sequence[str] = (),
    recent: int = 5,
    open_incidents: Sequence[Incident] | None = None,
    open_tasks: Sequence[str] = (),
    needs: Sequence[str] = (),
) -> dict[str, Any]:
    """Everything a template may use, as plain data (documented in `TEMPLATE_VARIABLES`).

    `next_update_in` is the promised update interval (the severity's, from settings);
    None means no time is promised ("further updates as we know more"). `components`
    are all status-page components known; the incident's own affected components come
    from the incident. `open_incidents` feeds the hand-off (default: this incident if it
    is open).
    """
    ordered = sort_entries([e for e in entries if e.incident_id == incident.id])
    shown = [e for e in ordered if e.kind is not EntryKind.CHECK]
    end = _end(incident) or now
    links = _links(incident.links)
    ticket = links["ticket"]
    channel = links["channel"]
    next_update: dict[str, Any] | None = None
    if incident.is_open and next_update_in is not None:
        next_update = {
            "in": format_duration(next_update_in, words=True),
            "at": format_time(now + next_update_in, tz),
        }
    all_needs: list[str] = []
    if incident.is_open:
        if not incident.commander:
            all_needs.append(f"an {Role.COMMANDER.label} to facilitate")
        if not incident.comms:
            all_needs.append(f"a {Role.COMMS.label} to handle updates")
    all_needs.extend(sanitize(n, single_line=True) for n in needs)
    if open_incidents is None:
        open_incidents = [incident] if incident.is_open else []
    tz_name = now.astimezone(tz).strftime("%Z") or str(tz)
    affected = list(incident.affected_components)
    return {
        "id": incident.id,
        "title": incident.title,
        "summary": incident.summary,
        "severity": incident.severity.label if incident.severity else "unset",
        "severity_value": incident.severity.value if incident.severity else "",
        "is_critical": incident.severity is Severity.CRITICAL,
        "status": incident.status.label,
        "status_value": incident.status.value,
        "is_open": incident.is_open,
        "is_resolved": incident.status is Status.RESOLVED,
        "is_canceled": incident.status is Status.CANCELED,
        "cancel_reason": incident.cancel_reason,
        "commander": incident.commander,
        "comms": incident.comms,
        "recorded_by": incident.created_by,
        "drill": incident.drill,
        "links": links,
        "ticket": ticket["text"] if ticket else "",
        "ticket_url": ticket["url"] if ticket else "",
        "channel": channel["text"] if channel else "",
        "channel_url": channel["url"] if channel else "",
        "thread_url": links["thread"]["url"] if links["thread"] else "",
        "status_page_url": links["status_page"]["url"] if links["status_page"] else "",
        "times": {
            "reported": format_time(incident.first_reported_at, tz),
            "acknowledged": _maybe_time(incident.acknowledged_at, tz),
            "fixing": _maybe_time(incident.fixing_at, tz),
            "mitigated": _maybe_time(incident.mitigated_at, tz),
            "resolved": _maybe_time(incident.resolved_at, tz),
            "canceled": _maybe_time(incident.canceled_at, tz),
            "last_update": _maybe_time(incident.last_update_at, tz),
            "now": format_time(now, tz),
        },
        "tz": tz_name,
        "duration": format_duration(end - incident.first_reported_at),
        "time_to_acknowledge": format_duration(
            incident.acknowledged_at - incident.first_reported_at
        )
        if incident.acknowledged_at
        else "",
        "next_update": next_update,
        "affected_components": affected,
        "components": [sanitize(c, single_line=True) for c in components],
        "public_name": public_name(affected),
        "assessment": _assessment(incident.assessment),
        "recent_entries": [_entry(e, tz) for e in shown[-recent:]] if recent > 0 else [],
        "entries": [_entry(e, tz) for e in ordered],
        "open_incidents": [
            _summary_of(i, now=now, tz=tz, next_update_in=next_update_in) for i in open_incidents
        ],
        "open_tasks": [sanitize(t, single_line=True) for t in open_tasks],
        "needs": all_needs,
        "guide_url": sanitize(guide_url, single_line=True),
        "product_channel": sanitize(product_channel, single_line=True),
    }


def sample_context() -> dict[str, Any]:
    """A full context for a made-up Critical incident: test renders and previews."""
    t0 = datetime(2026, 11, 27, 13, 3, tzinfo=UTC)
    inc = Incident(
        id="7",
        title="Checkout fails for some users",
        first_reported_at=t0,
        created_at=t0 + timedelta(minutes=1),
        created_by="sam",
        summary="Card payments fail with an error at the last step of checkout.",
    )
    entries = [
        inc.acknowledge(
            at=t0 + timedelta(minutes=4),
            by="sam",
            ticket=Link("https://example.atlassian.net/browse/INC-42", "INC-42"),
        ),
        inc.transition(Status.FIXING, at=t0 + timedelta(minutes=6), by="sam"),
        inc.set_severity(Severity.CRITICAL, at=t0 + timedelta(minutes=8), by="sam"),
        inc.assign(Role.COMMS, "robin", at=t0 + timedelta(minutes=9), by="sam"),
        inc.record_assessment(
            Assessment("most card payments", True, False), at=t0 + timedelta(minutes=12), by="sam"
        ),
    ]
    inc.links.thread = Link("https://example.slack.com/archives/C1/p1", "#incidents thread")
    inc.links.channel = Link("https://example.slack.com/archives/C7", "#incident-7")
    inc.links.status_page = Link("https://status.example.com/incidents/abc", "status page")
    inc.links.follow_ups.append(Link("https://example.atlassian.net/browse/PAY-1", "PAY-1"))
    inc.links.bugs.append(Link("https://example.atlassian.net/browse/BUG-3", "BUG-3"))
    inc.affected_components = ["Checkout", "Payments"]
    inc.last_update_at = t0 + timedelta(minutes=15)
    entries.append(inc.transition(Status.MONITORING, at=t0 + timedelta(minutes=40), by="sam"))
    return build_context(
        inc,
        entries,
        now=t0 + timedelta(minutes=45),
        tz=UTC,
        guide_url="https://example.com/guide-to-reporting-bugs",
        product_channel="#product",
        components=["Checkout", "Payments", "Search"],
        open_tasks=["status page update due"],
        needs=["a payments engineer"],
    )


# -- escaping on the way out ------------------------------------------------------------
# Templates whose output is Markdown (a file people read and render): their context is
# Markdown-escaped. `postmortem` is built (and escaped) by `postmortem.py`.
MARKDOWN_TEMPLATES = frozenset({"post-mortem"})
_PRE_ESCAPED = frozenset({"postmortem"})


def output_format(info: TemplateInfo) -> Literal["slack", "markdown", "text"]:
    """What a template's output is read as: Slack mrkdwn, Markdown or plain text."""
    if info.kind == "slack":
        return "slack"
    if info.name in MARKDOWN_TEMPLATES:
        return "markdown"
    return "text"


def escaped_context(info: TemplateInfo, context: Mapping[str, Any]) -> dict[str, Any]:
    """`context` with its text escaped for the template's output format."""
    fmt = output_format(info)
    if fmt == "slack":
        return dict(escape_context(context, slack_escape))
    if fmt == "markdown":
        return dict(escape_context(context, md_text, md_url, skip=_PRE_ESCAPED))
    return dict(context)


# -- the library ----------------------------------------------------------------------
_HEADER = re.compile(r"^\{#-?\s*(.*?)\s*-?#\}")
_FIELD = re.compile(
    r"(kind|title|description|target)\s*:\s*(.*?)\s*(?=;\s*(?:kind|title|description|target)"
    r"\s*:|;?\s*$)",
    re.DOTALL,
)


def parse_header(source: str) -> dict[str, str]:
    """The `{# kind: ...; title: ...; description: ... #}` fields on the first line."""
    first = source.split("\n", 1)[0]
    m = _HEADER.match(first)
    if not m:
        return {}
    return {k: sanitize(v, single_line=True).strip() for k, v in _FIELD.findall(m.group(1))}


def _error_line(exc: BaseException, filename: str) -> int | None:
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return exc.lineno
    line: int | None = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _message(exc: BaseException) -> str:
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return f"syntax error: {exc.message}"
    if isinstance(exc, jinja2.exceptions.SecurityError):
        return f"not allowed in a template: {exc}"
    if isinstance(exc, jinja2.UndefinedError):
        return f"unknown variable: {exc} (see `cockpit templates` for the variables)"
    if isinstance(exc, jinja2.TemplateError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


@dataclass
class _Loaded:
    info: TemplateInfo
    template: jinja2.Template


def _environment(sources: dict[str, tuple[str, str]]) -> LimitedEnvironment:
    def load(key: str) -> tuple[str, str, Callable[[], bool]]:
        if key not in sources:
            raise jinja2.TemplateNotFound(key)
        text, filename = sources[key]
        return text, filename, lambda: True

    env = LimitedEnvironment(
        loader=jinja2.FunctionLoader(load),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["and_list"] = and_list
    env.filters["linked"] = linked
    env.filters["yesno"] = yesno
    env.wrap_filters()
    return env


def shipped_dir() -> Path:
    return Path(str(resources.files("cockpit.templates")))


class TemplateLibrary:
    """The shipped templates plus the user's (same name overrides), checked at load."""

    def __init__(self, user_dir: Path | None = None, *, shipped: Path | None = None) -> None:
        self.user_dir = user_dir
        self.shipped_dir = shipped if shipped is not None else shipped_dir()
        self.problems: list[TemplateProblem] = []
        self._sources: dict[str, tuple[str, str]] = {}
        self._env = _environment(self._sources)
        self._templates: dict[str, _Loaded] = {}
        sample = sample_context()
        for path in sorted(self.shipped_dir.glob(f"*{SUFFIX}")):
            loaded = self._load(path, "shipped", None, sample)
            if loaded is not None:
                self._templates[loaded.info.name] = loaded
        if user_dir is not None:
            if user_dir.is_dir():
                for path in sorted(user_dir.glob(f"*{SUFFIX}")):
                    name = path.name[: -len(SUFFIX)]
                    base = self._templates.get(name)
                    loaded = self._load(path, "user", base.info if base else None, sample)
                    if loaded is not None:
                        self._templates[name] = loaded
            elif user_dir.exists():
                self.problems.append(
                    TemplateProblem(
                        user_dir, None, "is not a directory; user templates were not loaded"
                    )
                )

    def _load(
        self, path: Path, source: Source, base: TemplateInfo | None, sample: dict[str, Any]
    ) -> _Loaded | None:
        name = path.name[: -len(SUFFIX)]
        fallback = " (the shipped template is used instead)" if base else ""
        from cockpit.safefile import UnsafeFile, read_text

        try:  # a regular file of at most 1 MB: never a FIFO, a device or a directory
            text = read_text(path)
        except UnsafeFile as exc:
            self.problems.append(
                TemplateProblem(path, None, f"cannot read it: it {exc.problem}{fallback}")
            )
            return None
        header = parse_header(text)
        kind = header.get("kind", base.kind if base else "internal")
        if kind not in KINDS:
            self.problems.append(
                TemplateProblem(
                    path, 1, f"unknown kind {kind!r}: use one of {', '.join(KINDS)}{fallback}"
                )
            )
            return None
        key = f"{source}/{name}"
        self._sources[key] = (text, str(path))
        try:
            template = self._env.get_template(key)
            template.render(sample)
        except Exception as exc:  # a user file may fail in any way; report, never crash
            self._sources.pop(key, None)
            self.problems.append(
                TemplateProblem(path, _error_line(exc, str(path)), _message(exc) + fallback)
            )
            return None
        info = TemplateInfo(
            name=name,
            kind=kind,
            title=header.get("title") or (base.title if base else name),
            description=header.get("description") or (base.description if base else ""),
            source=source,
            path=path,
            target=header.get("target") or (base.target if base else ""),
        )
        return _Loaded(info, template)

    # -- reading ------------------------------------------------------------------
    def names(self) -> builtins.list[str]:
        order = {n: i for i, n in enumerate(SHIPPED_ORDER)}
        return sorted(self._templates, key=lambda n: (order.get(n, len(order)), n))

    def list(self) -> builtins.list[TemplateInfo]:
        return [self._templates[n].info for n in self.names()]

    def get(self, name: str) -> TemplateInfo:
        return self._get(name).info

    def __contains__(self, name: object) -> bool:
        return name in self._templates

    def source(self, name: str) -> str:
        info = self.get(name)
        return self._sources[f"{info.source}/{name}"][0]

    def _get(self, name: str) -> _Loaded:
        try:
            return self._templates[name]
        except KeyError:
            raise NotFound(
                f"no template called {name!r}: choose one of {', '.join(self.names())}"
            ) from None

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        """The template's output for `context`, sanitized; errors name the file and line.

        The context's text is escaped for where the output goes (see `escape.py`): Slack
        mrkdwn for `slack` templates, Markdown for the post mortem. The template's own
        markup stays live."""
        loaded = self._get(name)
        try:
            out = loaded.template.render(escaped_context(loaded.info, context))
        except Exception as exc:
            path = str(loaded.info.path)
            line = _error_line(exc, path)
            where = f"{path}:{line}" if line else path
            raise TemplateError(f"template {name!r} failed at {where}: {_message(exc)}") from exc
        return sanitize(out)

    def draft(self, name: str, context: Mapping[str, Any], *, at: datetime) -> Draft:
        """A new DRAFT rendered from template `name` for the incident in `context`."""
        info = self.get(name)
        body = self.render(name, context)
        about = context.get("ticket") or f"incident {context.get('id', '')}"
        return Draft.new(
            str(context.get("id", "")),
            template=name,
            kind=info.kind,
            title=f"{info.title} — {about}",
            body=body,
            target=info.target or info.kind,
            at=at,
        )

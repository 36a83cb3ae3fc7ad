"""`cockpit doctor`'s checks of Jira: the email and API token sign in (myself); the
projects' create screens take what cockpit sends (createmeta), the transitions' screens
get their fields, the link type exists."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

import msgspec

from cockpit.domain.incident import Incident, Severity
from cockpit.integrations.checks import Check, CheckFailed, DoctorContext, sign_in_check
from cockpit.integrations.errors import RemoteError
from cockpit.integrations.jira.settings import JiraSettings, jira_settings

if TYPE_CHECKING:
    from cockpit.integrations.base import RemoteClient
    from cockpit.integrations.jira.client import CreateMeta, JiraClient

FIELDS_LABEL = "Jira fields"


async def check_sign_in(ctx: DoctorContext) -> Check:
    async def probe(client: RemoteClient) -> str:
        jira = jira_settings(ctx.settings)
        if not jira.email:
            raise CheckFailed(
                "no email set for the API token", "set email in the [jira] section of the config"
            )
        user = await cast("JiraClient", client).myself()
        return f"signed in as {user.display_name or user.account_id}"

    return await sign_in_check(ctx, probe)


def _problems(s: JiraSettings, meta: CreateMeta, *, ticket: bool) -> list[str]:
    """What creating a ticket (or, not `ticket`, a follow-up) of `meta` would lack or be
    refused for, in plain words."""
    from cockpit.integrations.jira.handlers import follow_up_fields, ticket_fields

    where = f"{meta.project} ({meta.issue_type})"
    out: list[str] = []
    severities: list[Severity | None] = [None, *Severity]
    for severity in severities:
        now = datetime.now(UTC)
        probe = Incident("0", "doctor", now, now, severity=severity)
        fields = ticket_fields(s, probe, meta) if ticket else follow_up_fields(s, probe, meta)
        missing = meta.missing(fields)
        if missing:
            when = f"severity {severity.value}" if severity else "before a severity is set"
            names = ", ".join(f"{f.name} ({f.id})" for f in missing)
            out.append(f"{where} requires {names}: no value {when}")
            break
        for fid in fields:
            if fid not in meta.fields:
                out.append(f"{where}: {fid} is not on the create screen (Jira refuses it)")
        if "priority" in fields and meta.fields["priority"].allowed:
            name = fields["priority"]["name"]
            if name not in meta.fields["priority"].allowed:
                allowed = ", ".join(meta.fields["priority"].allowed)
                out.append(f"{where}: no priority {name!r} (there: {allowed})")
        if ticket and s.severity_field in fields and s.severity_field in meta.fields:
            value = fields[s.severity_field]["value"]
            allowed_values = meta.fields[s.severity_field].allowed
            if allowed_values and value not in allowed_values:
                out.append(
                    f"{where}: {meta.fields[s.severity_field].name} has no option {value!r} "
                    f"(there: {', '.join(allowed_values)})"
                )
    return list(dict.fromkeys(out))


async def check_ticket_fields(ctx: DoctorContext) -> Check:
    """Every required field of the incident project (and the follow-up project) has a
    value from the config, for every severity; what cockpit sends is on the screens."""

    refused = False

    async def probe(client: RemoteClient) -> str:
        nonlocal refused
        jira = cast("JiraClient", client)
        s = jira_settings(ctx.settings)
        problems: list[str] = []
        try:
            meta = await jira.create_meta(s.project, s.issue_type)
        except RemoteError as e:
            refused = e.status in (401, 403)
            raise
        problems += _problems(s, meta, ticket=True)
        follow = s.follow_up_project or s.project
        for issue_type in dict.fromkeys((s.bug_issue_type, s.follow_up_issue_type)):
            try:
                problems += _problems(s, await jira.create_meta(follow, issue_type), ticket=False)
            except RemoteError as e:  # no such issue type there: said, not fatal
                problems.append(e.what)
        names = [t[0] for t in await jira.link_type_names()]
        if s.link_type.casefold() not in (n.casefold() for n in names):
            problems.append(
                f"no issue link type {s.link_type!r} (there: {', '.join(names) or 'none'})"
            )
        if problems:
            raise CheckFailed(
                "; ".join(problems),
                "give each field a value: [jira.severity] (priority, field, values with "
                "unset), [jira.fields] or [jira.components]; see the README's Jira section",
            )
        required = [f.name for f in meta.fields.values() if f.required]
        return f"{s.project} takes what cockpit sends (required: {', '.join(required)})"

    check = await sign_in_check(ctx, probe)
    if refused or (check.ok is False and not ctx.token):
        # the sign-in check says why and what to do; this one could not look
        return Check(FIELDS_LABEL, None, "not checked: Jira did not let cockpit sign in")
    return msgspec.structs.replace(check, name=FIELDS_LABEL)

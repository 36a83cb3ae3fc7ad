"""How a Slack message reads: one renderer of Slack content, pure functions, no I/O.

Follows Slack's documented formatting: mrkdwn tokens (`<@U…>`, `<#C…|name>`,
`<!subteam^S…>`, `<!here>`, `<!date^ts^{format}|fallback>`, `<url|label>`, `&amp;` `&lt;`
`&gt;`), Block Kit (section, header, context, divider, image, actions, rich_text with every
element type), legacy attachments (pretext, author, title and link, text, fields, footer,
fallback, colour as the alert's state), files and the message subtypes (bot_message,
thread_broadcast, joins, topic changes, tombstones, message_changed, message_deleted).
When blocks exist they are the content and `text` is only the notification fallback.

Names come from a `Names` (user, channel, user group, bot id → name or None); an unknown
name reads as a placeholder ("@someone (U111)") and its id is listed in `Rendered.wanted`
so whoever holds the names can look it up and render again.

`render` returns the row's most informative line (`line`), the content as read (`text`,
`extra`) and the reader's whole text (`detail`: blocks in order, fields as an aligned
table, files named, links listed). Everything returned is sanitized text, never markup.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, tzinfo
from typing import Any, Protocol

from cockpit.domain.sanitize import sanitize

BROADCAST_NOTE = "↳ a thread reply, also sent to the channel"
DELETED_TEXT = "(message deleted)"
RULE = "─" * 20
FENCE = "```"
_STATES = {"good": "good", "warning": "warning", "danger": "danger"}
_TOKEN = re.compile(r"<([^<>\n]*)>")
_SPECIAL = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}
_UNINFORMATIVE = {"", FENCE, RULE}


class Names(Protocol):
    """Who an id is, as far as is known now (None: not known yet)."""

    def user(self, user_id: str) -> str | None: ...
    def channel(self, channel_id: str) -> str | None: ...
    def usergroup(self, group_id: str) -> str | None: ...
    def bot(self, bot_id: str) -> str | None: ...


@dataclass(frozen=True)
class MappingNames:
    """`Names` from plain dictionaries (id → name)."""

    users: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)
    usergroups: Mapping[str, str] = field(default_factory=dict)
    bots: Mapping[str, str] = field(default_factory=dict)

    def user(self, user_id: str) -> str | None:
        return self.users.get(user_id)

    def channel(self, channel_id: str) -> str | None:
        return self.channels.get(channel_id)

    def usergroup(self, group_id: str) -> str | None:
        return self.usergroups.get(group_id)

    def bot(self, bot_id: str) -> str | None:
        return self.bots.get(bot_id)


NO_NAMES = MappingNames()


@dataclass(frozen=True)
class Rendered:
    """A Slack message as a person reads it. Every string is sanitized."""

    author: str
    text: str  # the content as read, in order (multi-line)
    extra: tuple[str, ...] = ()  # attachment fields, footers, file names, notes
    edited: bool = False
    deleted: bool = False
    is_bot: bool = False
    user_id: str = ""
    line: str = ""  # the row's most informative line
    detail: str = ""  # the reader's text: everything, in structure
    state: str = ""  # an alert's state from its colour: good, warning, danger or "#rrggbb"
    broadcast: bool = False  # a thread reply also sent to the channel
    wanted: tuple[tuple[str, str], ...] = ()  # (kind, id) of names not known yet


# -- mrkdwn ------------------------------------------------------------------------------------
@dataclass
class _Ctx:
    names: Names
    tz: tzinfo
    now: datetime | None
    bare_ids: bool
    links: list[str] = field(default_factory=list)
    wanted: dict[tuple[str, str], None] = field(default_factory=dict)

    def name(self, kind: str, ident: str, label: str = "") -> str:
        """The name of `ident` of `kind` (user, channel, usergroup, bot) with its sigil."""
        sigil = {"user": "@", "channel": "#", "usergroup": "@", "bot": ""}[kind]
        lookup = {
            "user": self.names.user,
            "channel": self.names.channel,
            "usergroup": self.names.usergroup,
            "bot": self.names.bot,
        }[kind]
        known = lookup(ident) if ident else None
        if known:
            return sigil + known.lstrip(sigil) if sigil else known
        if ident and not label:  # a label reads well enough: no look-up for it
            self.wanted[(kind, ident)] = None
        if label:
            return sigil + label.lstrip(sigil) if sigil else label
        if self.bare_ids:
            return sigil + ident
        placeholder = {"user": "someone", "channel": "a channel", "usergroup": "a group"}
        return f"{sigil}{placeholder.get(kind, 'a bot')} ({ident or '?'})"

    def link(self, url: str) -> None:
        if url and url not in self.links:
            self.links.append(url)


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _mrkdwn(text: str, ctx: _Ctx) -> str:
    out: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        out.append(unescape(text[pos : m.start()]))
        out.append(_token(m.group(1), ctx))
        pos = m.end()
    out.append(unescape(text[pos:]))
    return "".join(out)


def _token(body: str, ctx: _Ctx) -> str:
    target, _, label = body.partition("|")
    label = unescape(label)
    if target.startswith("@"):
        return ctx.name("user", target[1:], label)
    if target.startswith("#"):
        return ctx.name("channel", target[1:], label)
    if target.startswith("!"):
        word = target[1:]
        if word in _SPECIAL:
            return _SPECIAL[word]
        if word.startswith("subteam^"):
            return ctx.name("usergroup", word.split("^", 1)[1], label)
        if word.startswith("date^"):
            parts = word.split("^")
            link = unescape(parts[3]) if len(parts) > 3 else ""
            if link:
                ctx.link(link)
            return format_date(parts[1], parts[2] if len(parts) > 2 else "", label, ctx)
        return label or "@" + word.split("^", 1)[0]
    url = unescape(target)
    if url.startswith("mailto:"):
        return label or url[len("mailto:") :]
    ctx.link(url)
    if not label or label == url:
        return url
    return f"{label} ({url})"


def mrkdwn(
    text: str,
    names: Names = NO_NAMES,
    *,
    tz: tzinfo = UTC,
    now: datetime | None = None,
    bare_ids: bool = False,
) -> str:
    """Slack mrkdwn as read (sanitized): <@U1> → @name, <#C1|x> → #x, <url|label> → label (url)."""
    return sanitize(_mrkdwn(text, _Ctx(names, tz, now, bare_ids)))


# -- dates ---------------------------------------------------------------------------------
def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def format_date(ts: str, fmt: str, fallback: str, ctx: _Ctx) -> str:
    """`<!date^ts^fmt|fallback>` in the reader's time zone, with Slack's format tokens."""
    try:
        at = datetime.fromtimestamp(float(ts), UTC).astimezone(ctx.tz)
    except (ValueError, OverflowError, OSError):
        return fallback or ts
    today = ctx.now.astimezone(ctx.tz).date() if ctx.now is not None else None

    def pretty(day: date, plain: str) -> str:
        if today is not None:
            delta = (day - today).days
            if delta in (-1, 0, 1):
                return {-1: "yesterday", 0: "today", 1: "tomorrow"}[delta]
        return plain

    d = at.date()
    words = {
        "date_num": at.strftime("%Y-%m-%d"),
        "date": f"{at:%B} {_ordinal(d.day)}, {d.year}",
        "date_short": f"{at:%b} {d.day}, {d.year}",
        "date_long": f"{at:%A}, {at:%B} {_ordinal(d.day)}, {d.year}",
        "time": at.strftime("%H:%M"),
        "time_secs": at.strftime("%H:%M:%S"),
    }
    for kind in ("date", "date_short", "date_long"):
        words[kind + "_pretty"] = pretty(d, words[kind])
    out = re.sub(r"\{(\w+)\}", lambda m: words.get(m.group(1), m.group(0)), fmt)
    return out if fmt else (fallback or words["date_num"])


# -- Block Kit -----------------------------------------------------------------------------
def _text_object(obj: object, ctx: _Ctx) -> str:
    if not isinstance(obj, Mapping) or not isinstance(obj.get("text"), str):
        return ""
    if obj.get("type") == "mrkdwn" and not obj.get("verbatim"):
        return _mrkdwn(obj["text"], ctx)
    if obj.get("type") == "mrkdwn":
        return unescape(obj["text"])
    return str(obj["text"])


def _field_pair(text: str) -> tuple[str, str]:
    """A section field "*Status:*\\nDOWN" as ("Status", "DOWN"); one line: ("", text)."""
    head, nl, rest = text.partition("\n")
    if not nl:
        return "", text
    return head.strip().strip("*_").rstrip(":").strip(), rest.strip()


def _blocks(blocks: object, ctx: _Ctx, table: list[tuple[str, str]]) -> list[str]:
    lines: list[str] = []
    if not isinstance(blocks, list):
        return lines
    for block in blocks:
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind in ("section", "header"):
            t = _text_object(block.get("text"), ctx)
            if t.strip():
                lines.append(t)
            for f in block.get("fields") or []:
                t = _text_object(f, ctx)
                if t.strip():
                    label, value = _field_pair(t)
                    lines.append(f"{label}: {value}" if label else value)
                    table.append((label, value))
            acc = block.get("accessory")
            if isinstance(acc, Mapping):
                lines.extend(_element(acc, ctx))
        elif kind == "context":
            parts = []
            for e in block.get("elements") or []:
                if isinstance(e, Mapping) and e.get("type") == "image":
                    alt = str(e.get("alt_text") or "")
                    if alt:
                        parts.append(f"[{alt}]")
                else:
                    parts.append(_text_object(e, ctx))
            if any(p.strip() for p in parts):
                lines.append(" ".join(p for p in parts if p.strip()))
        elif kind == "divider":
            lines.append(RULE)
        elif kind == "image":
            title = _text_object(block.get("title"), ctx)
            alt = str(block.get("alt_text") or "")
            lines.append(f"[image: {title or alt or 'image'}]")
            if isinstance(block.get("image_url"), str):
                ctx.link(block["image_url"])
        elif kind == "actions":
            buttons = [
                x
                for e in block.get("elements") or []
                if isinstance(e, Mapping)
                for x in _element(e, ctx)
            ]
            if buttons:
                lines.append(" ".join(buttons))
        elif kind == "rich_text":
            text = _rich(block.get("elements"), ctx)
            if text:
                lines.append(text)
        elif kind in ("video", "file"):
            title = _text_object(block.get("title"), ctx) or str(block.get("alt_text") or "")
            lines.append(f"[{kind}: {title or block.get('external_id') or ''}]")
    return lines


def _element(el: Mapping[str, Any], ctx: _Ctx) -> list[str]:
    """An interactive element (button, select, overflow…) as read: its label in brackets."""
    kind = el.get("type")
    if kind == "image":
        alt = str(el.get("alt_text") or "")
        return [f"[image: {alt}]"] if alt else []
    label = _text_object(el.get("text"), ctx) or _text_object(el.get("placeholder"), ctx)
    if isinstance(el.get("url"), str):
        ctx.link(el["url"])
    return [f"[{label}]"] if label else []


def _styled(text: str, style: object) -> str:
    if not isinstance(style, Mapping) or not text:
        return text
    if style.get("code"):
        text = f"`{text}`"
    if style.get("strike"):
        text = f"~{text}~"
    if style.get("italic"):
        text = f"_{text}_"
    if style.get("bold"):
        text = f"*{text}*"
    return text


def _rich_inline(elements: object, ctx: _Ctx) -> str:
    out: list[str] = []
    if not isinstance(elements, list):
        return ""
    for el in elements:
        if not isinstance(el, Mapping):
            continue
        kind = el.get("type")
        if kind == "text":  # literal: never mrkdwn
            out.append(_styled(str(el.get("text", "")), el.get("style")))
        elif kind == "link":
            url = str(el.get("url", ""))
            label = str(el.get("text", "") or "")
            ctx.link(url)
            shown = f"{label} ({url})" if label and label != url else url
            out.append(_styled(shown, el.get("style")))
        elif kind == "emoji":
            uni = el.get("unicode")
            try:
                out.append("".join(chr(int(u, 16)) for u in str(uni).split("-")) if uni else "")
            except ValueError:
                out.append("")
            if not uni or not out[-1]:
                out[-1] = f":{el.get('name', '')}:"
        elif kind == "user":
            out.append(ctx.name("user", str(el.get("user_id", ""))))
        elif kind == "usergroup":
            out.append(ctx.name("usergroup", str(el.get("usergroup_id", ""))))
        elif kind == "channel":
            out.append(ctx.name("channel", str(el.get("channel_id", ""))))
        elif kind == "broadcast":
            out.append(_SPECIAL.get(str(el.get("range", "here")), "@here"))
        elif kind == "date":
            out.append(
                format_date(
                    str(el.get("timestamp", "")),
                    str(el.get("format", "")),
                    str(el.get("fallback", "")),
                    ctx,
                )
            )
            if isinstance(el.get("url"), str):
                ctx.link(el["url"])
        elif kind == "team":
            out.append(f"the {el.get('team_id', '')} workspace")
        elif kind == "color":
            out.append(str(el.get("value", "")))
    return "".join(out)


def _rich(elements: object, ctx: _Ctx) -> str:
    lines: list[str] = []
    if not isinstance(elements, list):
        return ""
    for el in elements:
        if not isinstance(el, Mapping):
            continue
        kind = el.get("type")
        if kind == "rich_text_section":
            lines.append(_rich_inline(el.get("elements"), ctx))
        elif kind == "rich_text_preformatted":
            lines.extend([FENCE, _rich_inline(el.get("elements"), ctx).strip("\n"), FENCE])
        elif kind == "rich_text_quote":
            quoted = _rich_inline(el.get("elements"), ctx).strip("\n")
            lines.extend("> " + q for q in quoted.split("\n"))
        elif kind == "rich_text_list":
            indent = el.get("indent")
            pad = "  " * (indent if isinstance(indent, int) and 0 < indent < 10 else 0)
            offset = el.get("offset")
            start = (offset if isinstance(offset, int) and offset >= 0 else 0) + 1
            ordered = el.get("style") == "ordered"
            n = start
            for item in el.get("elements") or []:
                if not isinstance(item, Mapping):
                    continue
                body = _rich_inline(item.get("elements"), ctx).strip("\n")
                mark = f"{n}." if ordered else "•"
                lines.append(f"{pad}{mark} {body}")
                n += 1
    return "\n".join(line.rstrip("\n") for line in lines).strip("\n")


# -- legacy attachments ----------------------------------------------------------------------
def colour_state(color: object) -> str:
    """An attachment's colour as the alert's state: good, warning, danger, or the hex."""
    if not isinstance(color, str) or not color.strip():
        return ""
    c = color.strip().lower()
    if c in _STATES:
        return _STATES[c]
    hexa = c.lstrip("#")
    if not re.fullmatch(r"[0-9a-f]{3}|[0-9a-f]{6}", hexa):
        return ""
    if len(hexa) == 3:
        hexa = "".join(ch * 2 for ch in hexa)
    r, g, b = (int(hexa[i : i + 2], 16) for i in (0, 2, 4))
    hi, lo = max(r, g, b), min(r, g, b)
    if hi - lo >= 60:  # a clear hue: red, amber or green read as the alert's state
        if hi == r and g < r * 0.45 and b < r * 0.6:
            return "danger"
        if hi == r and g >= r * 0.45 and b < g * 0.7:
            return "warning"
        if hi == g and r < g * 0.8 and b < g * 0.8:
            return "good"
    return "#" + hexa


@dataclass
class _Attachments:
    main: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    table: list[tuple[str, str]] = field(default_factory=list)
    footers: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    state: str = ""


def _attachments(attachments: object, ctx: _Ctx) -> _Attachments:
    out = _Attachments()
    if not isinstance(attachments, list):
        return out
    for att in attachments:
        if not isinstance(att, Mapping):
            continue
        before = len(out.main)
        state = colour_state(att.get("color"))
        if state and not out.state:
            out.state = state
        pretext = att.get("pretext")
        if isinstance(pretext, str) and pretext.strip():
            out.main.append(_mrkdwn(pretext, ctx))
        author = att.get("author_name")
        if isinstance(author, str) and author.strip():
            out.main.append(author)
        if isinstance(att.get("author_link"), str):
            ctx.link(att["author_link"])
        title = att.get("title")
        if isinstance(title, str) and title.strip():
            link = att.get("title_link")
            title = unescape(title)
            out.titles.append(title)
            if isinstance(link, str) and link:
                ctx.link(link)
                out.main.append(f"{title} ({link})")
            else:
                out.main.append(title)
        text = att.get("text")
        if isinstance(text, str) and text.strip():
            out.main.append(_mrkdwn(text, ctx))
        for f in att.get("fields") or []:
            if isinstance(f, Mapping):
                t = unescape(str(f.get("title") or "")).strip()
                v = _mrkdwn(str(f.get("value") or ""), ctx).strip()
                if t or v:
                    out.fields.append(f"{t}: {v}" if t and v else t or v)
                    out.table.append((t, v))
        out.main.extend(_blocks(att.get("blocks"), ctx, out.table))
        fallback = att.get("fallback")
        if len(out.main) == before and isinstance(fallback, str) and fallback.strip():
            out.main.append(_mrkdwn(fallback, ctx))
        footer = att.get("footer")
        if isinstance(footer, str) and footer.strip():
            shown = _mrkdwn(footer, ctx)
            out.fields.append(shown)
            out.footers.append(shown)
    return out


# -- the message ---------------------------------------------------------------------------
def _author(msg: Mapping[str, Any], ctx: _Ctx) -> tuple[str, bool]:
    user = msg.get("user")
    profile = msg.get("bot_profile")
    bot_id = msg.get("bot_id")
    is_bot = bool(bot_id) or msg.get("subtype") == "bot_message"
    if is_bot:
        for name in (
            msg.get("username"),
            profile.get("name") if isinstance(profile, Mapping) else None,
        ):
            if isinstance(name, str) and name.strip():
                return name, True
    if isinstance(user, str) and user and user != "USLACKBOT":
        known = ctx.names.user(user)
        if not known:  # the author column is narrow: the id until the name arrives
            ctx.wanted[("user", user)] = None
        return known or user, is_bot
    if user == "USLACKBOT":
        return "Slackbot", is_bot
    if isinstance(msg.get("username"), str) and msg["username"].strip():
        return msg["username"], is_bot
    if isinstance(bot_id, str) and bot_id:
        return ctx.name("bot", bot_id), True
    return "someone", is_bot


def _table(rows: list[tuple[str, str]]) -> list[str]:
    width = max((len(t) for t, _ in rows), default=0)
    out = []
    for t, v in rows:
        first, *rest = v.split("\n") or [""]
        out.append(f"{t.ljust(width)}  {first}".rstrip() if t else first)
        out.extend(" " * (width + 2) + r for r in rest)
    return out


def _edited(msg: Mapping[str, Any], before: object) -> bool:
    """An edit, not an unfurl: an unfurl only adds attachments, without `edited`."""
    if isinstance(msg.get("edited"), Mapping):
        return True
    if not isinstance(before, Mapping):
        return False
    return any(msg.get(k) != before.get(k) for k in ("text", "blocks", "files"))


def render(
    msg: Mapping[str, Any],
    names: Names = NO_NAMES,
    *,
    tz: tzinfo = UTC,
    now: datetime | None = None,
    bare_ids: bool = False,
) -> Rendered:
    """A raw Slack message (history, replies or a Socket Mode event's) as read."""
    ctx = _Ctx(names, tz, now, bare_ids)
    subtype = msg.get("subtype")
    if subtype == "message_changed" and isinstance(msg.get("message"), Mapping):
        inner = render(msg["message"], names, tz=tz, now=now, bare_ids=bare_ids)
        before = msg.get("previous_message")
        edited = not inner.deleted and (inner.edited or _edited(msg["message"], before))
        return replace(inner, edited=edited)
    if subtype == "message_deleted":
        prev = msg.get("previous_message")
        author = _author(prev, ctx)[0] if isinstance(prev, Mapping) else "someone"
        return _finish(
            ctx,
            author=author,
            text=DELETED_TEXT,
            deleted=True,
            line=DELETED_TEXT,
            detail=DELETED_TEXT,
        )
    if subtype == "tombstone":  # a deleted thread parent, kept for its replies
        author = _author(msg, ctx)[0]
        return _finish(
            ctx,
            author="someone" if author == "Slackbot" else author,
            text=DELETED_TEXT,
            deleted=True,
            line=DELETED_TEXT,
            detail=DELETED_TEXT,
        )

    author, is_bot = _author(msg, ctx)
    table: list[tuple[str, str]] = []
    block_lines = _blocks(msg.get("blocks"), ctx, table)
    raw_text = str(msg.get("text") or "")
    body = block_lines if block_lines else ([_mrkdwn(raw_text, ctx)] if raw_text.strip() else [])
    att = _attachments(msg.get("attachments"), ctx)
    extra: list[str] = []
    if body:
        extra.extend(line for line in att.main if line.strip() not in {b.strip() for b in body})
        content = body
    else:
        content = att.main
    extra.extend(att.fields)
    broadcast = subtype == "thread_broadcast"
    if broadcast:
        extra.append(BROADCAST_NOTE)
    files: list[str] = []
    for f in msg.get("files") or []:
        if isinstance(f, Mapping):
            name = f.get("name") or f.get("title") or "a file"
            files.append(f"📎 {name}")
    extra.extend(files)
    text = "\n".join(content).strip()

    line = next((x.strip() for x in text.split("\n") if x.strip() not in _UNINFORMATIVE), "")
    if not block_lines and not raw_text.strip() and att.titles:
        line = att.titles[0]
    if not line:
        line = next(iter(att.fields), "") or att.state or (files[0] if files else "")

    shown_fields = {f"{t}: {v}" if t else v for t, v in table}  # the table shows them
    reader = "\n".join(x for x in text.split("\n") if x not in shown_fields).strip()
    detail: list[str] = [reader] if reader else []
    if not body and att.main and text != "\n".join(att.main).strip():
        detail.append("\n".join(att.main))
    elif body and extra and any(x in att.main for x in extra):
        detail.append("\n".join(x for x in att.main if x in extra))
    if table or att.table:
        detail.append("\n".join(_table(table + att.table)))
    if att.footers:
        detail.append("\n".join(att.footers))
    if att.state:
        detail.append(f"State: {att.state}")
    if broadcast:
        detail.append(BROADCAST_NOTE)
    if files:
        detail.append("Files:\n" + "\n".join("  " + f for f in files))
    if ctx.links:
        detail.append("Links:\n" + "\n".join("  " + u for u in ctx.links))
    return _finish(
        ctx,
        author=author,
        text=text,
        extra=tuple(extra),
        edited=_edited(msg, None),
        is_bot=is_bot,
        user_id=str(msg.get("user") or ""),
        line=line,
        detail="\n\n".join(detail),
        state=att.state,
        broadcast=broadcast,
    )


def _finish(ctx: _Ctx, **kw: Any) -> Rendered:
    clean: dict[str, Any] = {}
    for k, v in kw.items():
        if k in ("author", "line", "user_id", "state"):
            clean[k] = sanitize(v, single_line=True).strip()
        elif k in ("text", "detail"):
            clean[k] = sanitize(v).strip()
        elif k == "extra":
            clean[k] = tuple(sanitize(x, single_line=True) for x in v)
        else:
            clean[k] = v
    return Rendered(**clean, wanted=tuple(ctx.wanted))

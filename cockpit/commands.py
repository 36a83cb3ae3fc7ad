"""The one registry of user commands, as plain data (no Textual: the configuration checks
`[keys]` against it without importing the UI).

Each command is declared once here: its id (what `[keys]` remaps), its default key, the
action it runs, the footer label, the palette category, the help text, where it works
(`scope`: "screen" for the cockpit, or a pane: feed, timeline, checklist, drafts), and
whether it shows in the footer and the palette. `cockpit.ui.commands` turns these into
Textual bindings; the palette, the key bar and the help screen read them from there.
"""

from __future__ import annotations

from collections.abc import Iterator

import msgspec


class Command(msgspec.Struct, frozen=True):
    id: str
    key: str
    action: str
    description: str
    category: str
    help: str
    scope: str = "screen"  # "screen" (the cockpit), or a pane: feed, timeline, checklist, drafts
    footer: bool = True
    palette: bool = True
    priority: bool = False


COMMANDS: tuple[Command, ...] = (
    # the incident
    Command(
        "raise",
        "R",
        "raise_incident",
        "Raise",
        "Incident",
        "Raise a new incident (from the selected feed message when the feed has focus)",
    ),
    Command(
        "severity",
        "S",
        "set_severity",
        "Severity",
        "Incident",
        "Set the severity and answer the three assess questions",
    ),
    Command(
        "status",
        "ctrl+t",
        "change_status",
        "Status",
        "Incident",
        "Move the incident along: FIXING, MONITORING, RESOLVED",
    ),
    Command(
        "cancel",
        "X",
        "cancel_incident",
        "Not an incident",
        "Incident",
        "Cancel the incident with a reason (the not-an-incident path)",
    ),
    Command(
        "roles",
        "A",
        "assign_roles",
        "Roles",
        "Incident",
        "Assign the Incident Commander and the Communications Officer",
    ),
    Command(
        "give-role",
        "G",
        "give_role",
        "Give role",
        "Incident",
        "Hand your role (IC or Comms) to a teammate, in every cockpit",
        footer=False,
    ),
    Command(
        "note",
        "n",
        "add_note",
        "Note",
        "Timeline",
        "Add a note to the timeline (backdate with -12m, 14:03 or an ISO time)",
    ),
    Command(
        "switch-incident",
        "I",
        "switch_incident",
        "Incidents",
        "Incident",
        "Switch between open incidents, or join one the team has open",
    ),
    Command(
        "metrics",
        "M",
        "metrics",
        "Metrics",
        "Incident",
        "Response metrics: incidents per week and severity, the SLO, time to resolve",
        footer=False,
    ),
    Command(
        "handoff",
        "ctrl+o",
        "handoff",
        "Hand-off",
        "Incident",
        "Prepare the shift hand-off: every open incident, what is due, what is still open",
        footer=False,
    ),
    Command(
        "conflicts",
        "C",
        "settle_conflict",
        "Conflicts",
        "Incident",
        "Settle a conflict: a teammate's or Jira's status move not applied here",
        footer=False,
    ),
    Command(
        "history",
        "H",
        "history",
        "History",
        "Incident",
        "Browse and search past incidents",
        footer=False,
    ),
    # panes
    Command(
        "focus-feed", "1", "focus_pane('feed')", "Feed", "View", "Focus the feed pane", footer=False
    ),
    Command(
        "focus-timeline",
        "2",
        "focus_pane('timeline')",
        "Timeline",
        "View",
        "Focus the timeline pane",
        footer=False,
    ),
    Command(
        "focus-checklist",
        "3",
        "focus_pane('checklist')",
        "Checklist",
        "View",
        "Focus the checklist pane",
        footer=False,
    ),
    Command(
        "focus-drafts",
        "4",
        "focus_pane('drafts')",
        "Drafts",
        "View",
        "Focus the drafts pane",
        footer=False,
    ),
    Command(
        "theme", "ctrl+y", "next_theme", "Theme", "View", "Switch to the next theme", footer=False
    ),
    Command("help", "question_mark", "help", "Help", "View", "Show every key and what it does"),
    Command(
        "palette",
        "ctrl+p",
        "command_palette",
        "Commands",
        "View",
        "Open the command palette",
        footer=False,
        palette=False,
        priority=True,
    ),
    Command(
        "quit", "ctrl+q", "quit", "Quit", "View", "Quit cockpit (nothing is lost)", priority=True
    ),
    # feed
    Command(
        "pause-feed",
        "space",
        "toggle_pause",
        "Pause",
        "Feed",
        "Pause or resume live updates (new messages are counted meanwhile)",
        scope="feed",
    ),
    Command(
        "filter-feed",
        "slash",
        "filter",
        "Filter",
        "Feed",
        "Show only messages that contain some text",
        scope="feed",
    ),
    Command(
        "pin",
        "p",
        "pin",
        "Pin",
        "Feed",
        "Pin the selected message to the incident's timeline at its own time",
        scope="feed",
    ),
    # timeline
    Command(
        "edit-time",
        "t",
        "edit_time",
        "Edit time",
        "Timeline",
        "Change the time of the selected entry",
        scope="timeline",
    ),
    # checklist
    Command(
        "tick",
        "x",
        "tick",
        "Tick",
        "Checklist",
        "Tick or untick the selected item",
        scope="checklist",
    ),
    Command(
        "run-item",
        "enter",
        "run_item",
        "Run",
        "Checklist",
        "Run the selected item's action",
        scope="checklist",
    ),
    # drafts
    Command(
        "new-draft",
        "d",
        "new_draft",
        "New draft",
        "Drafts",
        "Draft a message from a template",
        scope="drafts",
    ),
    Command(
        "edit-draft", "e", "edit_draft", "Edit", "Drafts", "Edit the selected draft", scope="drafts"
    ),
    Command(
        "read-draft",
        "v",
        "read_draft",
        "Read",
        "Drafts",
        "Read the selected draft full-screen (scrollable; the post mortem too)",
        scope="drafts",
    ),
    Command(
        "copy",
        "c",
        "copy_draft",
        "Copy",
        "Drafts",
        "Copy the selected draft to the clipboard",
        scope="drafts",
    ),
    Command(
        "retry",
        "r",
        "retry",
        "Retry",
        "Drafts",
        "Try a failed action or message again",
        scope="drafts",
    ),
    Command(
        "discard",
        "D",
        "discard",
        "Discard",
        "Drafts",
        "Give up on a failed or waiting action (it is kept, marked discarded)",
        scope="drafts",
    ),
    Command(
        "send",
        "s",
        "send_draft",
        "Send",
        "Drafts",
        "Send the selected draft (shows exactly what goes where first)",
        scope="drafts",
    ),
)

_BY_ID = {c.id: c for c in COMMANDS}
assert len(_BY_ID) == len(COMMANDS), "a command id is declared twice"

COMMAND_IDS: tuple[str, ...] = tuple(_BY_ID)


def command(command_id: str) -> Command:
    return _BY_ID[command_id]


def in_scope(scope: str) -> Iterator[Command]:
    return (c for c in COMMANDS if c.scope == scope)

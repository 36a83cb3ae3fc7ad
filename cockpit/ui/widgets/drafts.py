"""The drafts pane: the incident's messages on their way out, with their state.

Keys: d drafts a new message from a template, e edits (ctrl+s keeps, escape drops the
edit, asking first when the text changed), v reads it full-screen, c copies, s sends (a
confirm dialog first shows exactly what goes where).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from cockpit.application.outbox import links_on_their_way
from cockpit.application.service import IncidentRecord
from cockpit.domain.drafts import Draft, DraftState
from cockpit.domain.outbox import OutboxItem, OutboxState
from cockpit.ui import commands
from cockpit.ui.host import CockpitHost
from cockpit.ui.parts import PartStyles, resolve

if TYPE_CHECKING:
    from textual.widgets import TextArea

    from cockpit.application.actions import Done

STATES = sorted({s.value for s in DraftState} | {s.value for s in OutboxState})


def state_part(state: DraftState | OutboxState) -> str:
    """The part a draft's or an action's state is drawn as: `.drafts--queued` …"""
    return f".drafts--{state.value}"


class DraftList(OptionList):
    """The drafts and actions, one row each; the parts of a row are styled in cockpit.tcss."""

    BINDINGS = [Binding("k", "cursor_up", show=False), Binding("j", "cursor_down", show=False)]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *(f"drafts--{state}" for state in STATES),  # draft, queued, sending, sent, …
        "drafts--title",
        "drafts--target",  # where it goes (and the ⚙ of an action)
        "drafts--reason",  # why it waits
        "drafts--reason-failed",  # why it failed
        "drafts--empty",
    }

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: list[Content] = []  # each row's text, naming its parts

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, self._restyle)

    def on_unmount(self) -> None:
        self.app.theme_changed_signal.unsubscribe(self)

    def set_rows(self, rows: list[tuple[Content, str | None]], *, disabled: bool = False) -> None:
        """Every row anew: (its text, its id)."""
        self._rows = [content for content, _ in rows]
        parts: PartStyles = {}
        self.clear_options()
        self.add_options(
            [Option(resolve(self, c, parts), id=i, disabled=disabled) for c, i in rows]
        )

    def _restyle(self, _theme: object) -> None:
        """A new theme: the rows' parts in its colours (nothing else changes)."""
        parts: PartStyles = {}
        for index, content in enumerate(self._rows):
            self.replace_option_prompt_at_index(index, resolve(self, content, parts))


class DraftsPane(Vertical, can_focus=False):
    BINDINGS = [
        *commands.bindings("drafts"),
        Binding("escape", "stop_editing", "Drop edit", show=False),
        Binding("ctrl+s", "save_edit", "Keep edit", show=False),
    ]

    app: CockpitHost

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.record: IncidentRecord | None = None
        self.drafts: list[Draft] = []
        self.actions: list[OutboxItem] = []
        self.editing: str | None = None
        self.editor: TextArea | None = None  # mounted while a draft is edited
        self.select_next: str | None = None  # a row to select once it shows up
        self._shown_text = ""  # what the view below the list shows

    def compose(self) -> ComposeResult:
        yield DraftList(id="draft-list")
        # the selected row's text; the editor (a TextArea) is mounted in its place only
        # while a draft is being edited
        with VerticalScroll(id="draft-view"):
            yield Static(id="draft-body")

    def _show_text(self, text: str) -> None:
        """Show `text` (literal: a draft may quote remote text) below the list."""
        self._close_editor()
        self._shown_text = text
        self.query_one("#draft-body", Static).update(Content(text))

    def _close_editor(self) -> None:
        self.editing = None
        if self.editor is not None:
            self.editor.remove()
            self.editor = None
        self.query_one("#draft-view").display = True

    # -- data --------------------------------------------------------------------------
    def show(self, record: IncidentRecord | None) -> None:
        self.record = record
        if record is None:
            self._fill(([], []))
            return
        svc = self.app.services.service
        actions = self.app.services.actions
        iid = record.incident.id

        def load() -> tuple[list[Draft], list[OutboxItem]]:
            return svc.drafts(iid), actions.outbox(iid)

        self.app.store_call("load drafts", load, self._fill)

    def _fill(self, loaded: tuple[list[Draft], list[OutboxItem]]) -> None:
        drafts, actions = loaded
        keep = self.query_one(DraftList).highlighted
        keep_id = None
        if keep is not None and self.drafts + self.actions:
            keep_id = self.query_one(DraftList).get_option_at_index(keep).id
        self.drafts, self.actions = drafts, actions
        lst = self.query_one(DraftList)
        by_draft = {a.draft_id: a for a in actions if a.draft_id}
        rows: list[tuple[Content, str | None]] = []
        for d in drafts:
            item = by_draft.get(d.id)
            state = Content.styled(f"{d.state.label:<6}", state_part(d.state))
            reason = d.reason or (
                item.reason if item is not None and item.state is not OutboxState.SENT else ""
            )
            extra = (
                Content.styled(
                    f"  {reason}",
                    ".drafts--reason-failed" if d.state is DraftState.FAILED else ".drafts--reason",
                )
                if reason
                else Content("")
            )
            rows.append(
                (
                    Content.assemble(
                        state,
                        " ",
                        (d.title, ".drafts--title"),
                        (f"  → {d.target}", ".drafts--target"),
                        extra,
                    ),
                    f"d:{d.id}",
                )
            )
        for a in actions:
            if a.draft_id:
                continue
            state = Content.styled(f"{a.state.label:<6}", state_part(a.state))
            extra = (
                Content.styled(
                    f"  {a.reason}",
                    ".drafts--reason-failed"
                    if a.state is OutboxState.FAILED
                    else ".drafts--reason",
                )
                if a.reason and a.state is not OutboxState.SENT
                else Content("")
            )
            rows.append(
                (
                    Content.assemble(
                        state,
                        " ",
                        ("⚙ ", ".drafts--target"),
                        (a.title, ""),
                        (f"  → {a.system}", ".drafts--target"),
                        extra,
                    ),
                    f"o:{a.id}",
                )
            )
        if not rows:
            hint = (
                "No active incident."
                if self.record is None
                else "No drafts yet. d drafts a message from a template."
            )
            lst.set_rows([(Content.styled(hint, ".drafts--empty"), None)], disabled=True)
            self._preview(None)
            self.border_subtitle = ""
            return
        lst.set_rows(rows)
        ids = [row_id for _, row_id in rows]
        if self.select_next in ids:
            keep_id, self.select_next = self.select_next, None
        index = ids.index(keep_id) if keep_id in ids else len(rows) - 1
        lst.highlighted = index
        self._show_selected()
        waiting = sum(a.state.pending for a in actions) + sum(
            d.state is DraftState.QUEUED and d.id not in by_draft for d in drafts
        )
        failed = sum(a.state is OutboxState.FAILED for a in actions) + sum(
            d.state is DraftState.FAILED for d in drafts
        )
        bits = [f"{len(drafts)} draft{'' if len(drafts) == 1 else 's'}"]
        if actions:
            bits.append(f"{sum(a.state is OutboxState.SENT for a in actions)}/{len(actions)} sent")
        if waiting:
            bits.append(f"{waiting} waiting")
        if failed:
            bits.append(f"{failed} failed")
        self.border_subtitle = " · ".join(bits)

    def _selected_id(self) -> str | None:
        lst = self.query_one(DraftList)
        if lst.highlighted is None or not (self.drafts or self.actions):
            return None
        return lst.get_option_at_index(lst.highlighted).id

    def selected(self) -> Draft | None:
        oid = self._selected_id()
        if not oid or not oid.startswith("d:"):
            return None
        return next((d for d in self.drafts if d.id == oid[2:]), None)

    def selected_action(self) -> OutboxItem | None:
        """The outbox item of the selected row (an action, or a draft's send)."""
        oid = self._selected_id()
        if not oid:
            return None
        if oid.startswith("o:"):
            return next((a for a in self.actions if a.id == oid[2:]), None)
        return next((a for a in self.actions if a.draft_id == oid[2:]), None)

    def _show_selected(self) -> None:
        draft = self.selected()
        if draft is not None:
            self._preview(draft)
            return
        action = self.selected_action()
        if action is None:
            self._show_text("")
            return
        lines = [
            f"{action.title} ({action.system})",
            f"state: {action.state.label}",
            f"attempts: {action.attempts}",
        ]
        if action.reason:
            lines.append(f"last problem: {action.reason}")
        if action.uncertain:
            lines.append(
                "the last attempt may have gone through: cockpit checks before trying again"
            )
        if action.remote_link:
            lines.append(f"link: {action.remote_link}")
        if action.state is OutboxState.FAILED:
            lines.append("r tries again, D gives up on it")
        self._show_text("\n".join(lines))

    def _preview(self, draft: Draft | None) -> None:
        self._show_text(draft.readable if draft else "")

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if self.editing is None:
            self._show_selected()

    # -- actions -----------------------------------------------------------------------
    def _refuse(self, text: str) -> None:
        """A refused action: said in a dialog that takes the keys, not a toast alone."""
        from cockpit.ui.dialogs.message import refuse

        refuse(self.app, text)

    def _incident_id(self) -> str | None:
        if self.record is None:
            self._refuse("There is no active incident: R raises one, I switches to an open one.")
            return None
        return self.record.incident.id

    def action_new_draft(self) -> None:
        from cockpit.ui.dialogs.prompts import ChoiceModal

        svc = self.app.services.service
        choices = [
            (
                t.name,
                Content.assemble(
                    (t.title or t.name, ".dialog--strong"), "  ", (t.description, ".dialog--muted")
                ),
            )
            for t in svc.templates.list()
        ]

        def picked(name: str | None) -> None:
            if name:
                self.new_draft(name)

        self.app.push_screen(ChoiceModal("Draft a message", choices), picked)

    def new_draft(self, template: str) -> None:
        iid = self._incident_id()
        if iid is None:
            return
        svc = self.app.services.service

        def done(draft: Draft) -> None:
            self.select_next = f"d:{draft.id}"
            self.notify(f"Drafted: {draft.title}", markup=False, timeout=3)
            self.show(self.record)
            self.query_one(DraftList).focus()

        self.app.store_call("draft message", lambda: svc.new_draft(iid, template), done)

    def action_edit_draft(self) -> None:
        draft = self.selected()
        if draft is None:
            return
        if not draft.editable:
            self._refuse(f"This draft is {draft.state.label}: it can no longer be edited.")
            return
        from textual.widgets import TextArea

        if self.editor is not None:  # already editing: stay in the editor
            self.editor.focus()
            return
        self.editor = TextArea(draft.body, soft_wrap=True, show_line_numbers=False)
        self.editor.add_class("draft-editor")
        self.query_one("#draft-view").display = False
        self.mount(self.editor)
        self.editing = draft.id
        self.editor.focus()
        self.notify("Editing: ctrl+s keeps the change, escape drops it.", markup=False, timeout=3)

    def action_save_edit(self) -> None:
        iid = self._incident_id()
        if self.editing is None or iid is None:
            return
        svc = self.app.services.service
        if self.editor is None:
            return
        draft_id, body = self.editing, self.editor.text
        self._close_editor()

        def done(_: Any) -> None:
            self.notify("Draft kept.", markup=False, timeout=2)
            self.show(self.record)
            self.query_one(DraftList).focus()

        self.app.store_call("save draft", lambda: svc.edit_draft(iid, draft_id, body), done)

    def action_stop_editing(self) -> None:
        """Escape in the editor: what was typed is never lost without asking."""
        if self.editing is None:
            return
        draft = next((d for d in self.drafts if d.id == self.editing), None)
        changed = self.editor is not None and (draft is None or self.editor.text != draft.body)
        if not changed:
            self._drop_edit()
            return
        from cockpit.ui.dialogs.message import AskDrop

        def answered(drop: bool | None) -> None:
            if drop:
                self._drop_edit()
            elif self.editor is not None:
                self.editor.focus()

        self.app.push_screen(AskDrop("The draft"), answered)

    def _drop_edit(self) -> None:
        self._preview(self.selected())
        self.query_one(DraftList).focus()

    def action_read_draft(self) -> None:
        """The selected draft (or action) in full, full-screen and scrollable."""
        from cockpit.ui.dialogs.message import MessageDetail

        draft = self.selected()
        if draft is not None:
            body = self.editor.text if self.editor is not None else draft.body
            self.app.push_screen(MessageDetail(f"{draft.title}  → {draft.target}", body))
            return
        action = self.selected_action()
        if action is not None:
            text = self._shown_text
            self.app.push_screen(MessageDetail(f"{action.title} ({action.system})", text))

    def _warnings(self, draft: Draft) -> list[str]:
        if not draft.public or self.record is None:
            return []
        s = self.app.services.settings
        inc = self.record.incident
        from cockpit.domain.lint import lint_public

        found = lint_public(
            draft.body,
            internal_names=s.internal_names,
            max_length=s.public_max_length,
            components=self.app.services.service.draft_options.components
            or tuple(inc.affected_components),
            resolved=not inc.is_open,
        )
        return [w.message for w in found]

    def action_copy_draft(self) -> None:
        draft = self.selected()
        if draft is None:
            return
        for w in self._warnings(draft):
            self.notify(w, title="Public message", severity="warning", markup=False, timeout=8)
        self.app.copy_text(draft.readable)

    def action_send_draft(self) -> None:
        draft = self.selected()
        iid = self._incident_id()
        if draft is None or iid is None:
            return
        if draft.state is DraftState.SENT:
            self._refuse("This draft was already sent.")
            return
        actions = self.app.services.actions
        assert self.record is not None
        incident = self.record.incident
        page = self.app.services.service.draft_options.components
        if (
            draft.template.startswith("statuspage-")
            and actions.planner is not None
            and "statuspage" in actions.planner.configured
            and (page or incident.affected_components)
        ):
            from cockpit.ui.dialogs.components import PickComponents

            def picked(names: object) -> None:
                if isinstance(names, list):  # None: back
                    self._confirm_send(draft, iid, [str(n) for n in names])

            self.app.push_screen(PickComponents(page, incident.affected_components), picked)
            return
        self._confirm_send(draft, iid, None)

    def _confirm_send(self, draft: Draft, iid: str, components: list[str] | None) -> None:
        """The confirm dialog (what goes where, the lint's warnings), then the send;
        `components`: a status-page update's affected components, as picked."""
        from cockpit.ui.dialogs.send import ConfirmSend

        actions = self.app.services.actions
        assert self.record is not None
        planned = (
            actions.planner.expecting(links_on_their_way(self.actions)).for_draft(
                draft, self.record.incident, actions.now, components=components
            )
            if actions.planner is not None
            else []
        )
        where = draft.target
        if planned:
            where += "  (" + "; then ".join(f"{i.title} via {i.system}" for i in planned) + ")"
        else:
            where += (
                "  (not configured to send this: it is copied for you to post, "
                "then marked as posted by hand)"
            )

        def confirmed(ok: object) -> None:
            if not ok:
                return
            if planned:
                self._act(
                    "send draft",
                    lambda: actions.send_draft(iid, draft.id, components=components),
                )
                return
            self.app.copy_text(draft.readable)
            self._act("mark draft", lambda: actions.sent_by_hand(iid, draft.id))

        self.app.push_screen(
            ConfirmSend(where=where, body=draft.readable, warnings=self._warnings(draft)), confirmed
        )

    class Acted(Message):
        """An action on a draft or an outbox step is done (the screen says it, reloads)."""

        def __init__(self, done: Done) -> None:
            super().__init__()
            self.done = done

    def _act(self, label: str, fn: Callable[[], Done]) -> None:
        def acted(done: Done) -> None:
            self.post_message(self.Acted(done))

        self.app.store_call(label, fn, acted)

    def action_retry(self) -> None:
        step = self.selected_action()
        if step is None or step.state is not OutboxState.FAILED:
            self._refuse("Only a failed action can be retried: select one first.")
            return
        actions = self.app.services.actions
        self._act("retry", lambda: actions.retry(step.incident_id, step.id))

    def action_discard(self) -> None:
        step = self.selected_action()
        if step is None or not (step.state is OutboxState.FAILED or step.state.pending):
            self._refuse("Only a failed or waiting action can be discarded: select one first.")
            return
        actions = self.app.services.actions
        self._act("discard", lambda: actions.discard(step.incident_id, step.id))
        self.query_one("#draft-view").display = True

"""Block Kit, checked as Slack checks a message's `blocks` (docs.slack.dev, "Blocks",
"Block elements", "Composition objects"): known block types, their required fields,
text lengths, and the limits (50 blocks in a message, 10 section fields, 10 context
elements, 25 actions, a block_id of 255 characters, unique in the message).

`check_blocks(blocks)` raises `BlockKitError` with every problem found, each as Slack
words it: a reason and a JSON pointer, "must be less than 3001 characters
[json-pointer:/blocks/0/text/text]". The drill range answers those `invalid_blocks`, with the
reasons in `errors` and, prefixed "[ERROR] ", in `response_metadata.messages`.

It is a focused checker, not the whole schema: the block types a message may carry are
known, and their fields checked; an element inside `actions` or an accessory is checked
for its type and the fields every element has, the common ones (button, selects, overflow,
datepicker, image) more closely.
"""

from __future__ import annotations

from typing import Any

MAX_BLOCKS = 50  # in a message (100 in modals and home tabs)
MAX_BLOCK_ID = 255
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS = 25
MAX_MARKDOWN_TEXT = 12_000
MAX_URL = 3000
MAX_ALT_TEXT = 2000
MAX_ACTION_ID = 255

TEXT_TYPES = ("plain_text", "mrkdwn")
RICH_TEXT_ELEMENTS = (
    "rich_text_section",
    "rich_text_list",
    "rich_text_preformatted",
    "rich_text_quote",
)
INTERACTIVE = (
    "button",
    "checkboxes",
    "datepicker",
    "datetimepicker",
    "email_text_input",
    "file_input",
    "image",
    "multi_static_select",
    "multi_external_select",
    "multi_users_select",
    "multi_conversations_select",
    "multi_channels_select",
    "number_input",
    "overflow",
    "plain_text_input",
    "radio_buttons",
    "rich_text_input",
    "static_select",
    "external_select",
    "users_select",
    "conversations_select",
    "channels_select",
    "timepicker",
    "url_text_input",
    "workflow_button",
)


class BlockKitError(ValueError):
    """Blocks Slack would refuse; `errors` as Slack words them."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.block_ids: set[str] = set()

    def fail(self, pointer: str, reason: str) -> None:
        self.errors.append(f"{reason} [json-pointer:{pointer}]")

    # -- fields ---------------------------------------------------------------------------
    def obj(self, value: Any, pointer: str) -> bool:
        if not isinstance(value, dict):
            self.fail(pointer, "must provide an object")
            return False
        return True

    def string(
        self, node: dict[str, Any], key: str, pointer: str, *, required: bool, maximum: int
    ) -> None:
        if key not in node:
            if required:
                self.fail(pointer, f"missing required field: {key}")
            return
        value = node[key]
        where = f"{pointer}/{key}"
        if not isinstance(value, str):
            self.fail(where, "must provide a string")
        elif not value:
            self.fail(where, "must be more than 0 characters")
        elif len(value) > maximum:
            self.fail(where, f"must be less than {maximum + 1} characters")

    def text(
        self,
        node: dict[str, Any],
        key: str,
        pointer: str,
        *,
        required: bool,
        maximum: int,
        plain_only: bool = False,
    ) -> None:
        """A text composition object at `node[key]`."""
        if key not in node:
            if required:
                self.fail(pointer, f"missing required field: {key}")
            return
        self.text_object(node[key], f"{pointer}/{key}", maximum=maximum, plain_only=plain_only)

    def text_object(
        self, value: Any, where: str, *, maximum: int, plain_only: bool = False
    ) -> None:
        if not self.obj(value, where):
            return
        kind = value.get("type")
        allowed = ("plain_text",) if plain_only else TEXT_TYPES
        if kind not in allowed:
            self.fail(where, "failed to match all allowed schemas")
            self.fail(f"{where}/type", f"must be one of: {', '.join(allowed)}")
            return
        before = len(self.errors)
        self.string(value, "text", where, required=True, maximum=maximum)
        if len(self.errors) > before:
            schemas = f"failed to match all allowed schemas [json-pointer:{where}]"
            self.errors.insert(before, schemas)
        if "emoji" in value and (kind != "plain_text" or not isinstance(value["emoji"], bool)):
            self.fail(f"{where}/emoji", "emoji is only allowed, as true or false, in plain_text")
        if "verbatim" in value and (kind != "mrkdwn" or not isinstance(value["verbatim"], bool)):
            self.fail(f"{where}/verbatim", "verbatim is only allowed, as true or false, in mrkdwn")

    def unknown_keys(self, node: dict[str, Any], allowed: set[str], pointer: str) -> None:
        for key in node:
            if key not in allowed:
                self.fail(f"{pointer}/{key}", "is not a valid field")

    # -- elements -------------------------------------------------------------------------
    def element(self, value: Any, pointer: str) -> None:
        """An interactive element (in actions, or a section's accessory)."""
        if not self.obj(value, pointer):
            return
        kind = value.get("type")
        if kind not in INTERACTIVE:
            self.fail(f"{pointer}/type", f"unsupported type: {kind}")
            return
        if kind == "image":
            self.image_element(value, pointer)
            return
        self.string(value, "action_id", pointer, required=False, maximum=MAX_ACTION_ID)
        if kind == "button":
            self.text(value, "text", pointer, required=True, maximum=75, plain_only=True)
            self.string(value, "url", pointer, required=False, maximum=MAX_URL)
            self.string(value, "value", pointer, required=False, maximum=2000)
            if "style" in value and value["style"] not in ("primary", "danger"):
                self.fail(f"{pointer}/style", "must be one of: primary, danger")
        elif kind in ("static_select", "multi_static_select", "overflow"):
            options = value.get("options", value.get("option_groups"))
            if options is None:
                self.fail(pointer, "missing required field: options")
            elif not isinstance(options, list) or not options:
                self.fail(f"{pointer}/options", "must provide a non-empty array")
            elif len(options) > 100 or (kind == "overflow" and len(options) > 5):
                limit = 5 if kind == "overflow" else 100
                self.fail(f"{pointer}/options", f"must be no more than {limit} items")
        if "placeholder" in value:
            self.text(value, "placeholder", pointer, required=False, maximum=150, plain_only=True)

    def image_element(self, value: dict[str, Any], pointer: str) -> None:
        if "image_url" not in value and "slack_file" not in value:
            self.fail(pointer, "missing required field: image_url")
        self.string(value, "image_url", pointer, required=False, maximum=MAX_URL)
        self.string(value, "alt_text", pointer, required=True, maximum=MAX_ALT_TEXT)

    # -- blocks ---------------------------------------------------------------------------
    def block(self, block: Any, pointer: str) -> None:
        if not self.obj(block, pointer):
            return
        kind = block.get("type")
        if not isinstance(kind, str):
            self.fail(pointer, "missing required field: type")
            return
        if "block_id" in block:
            before = len(self.errors)
            self.string(block, "block_id", pointer, required=False, maximum=MAX_BLOCK_ID)
            block_id = block["block_id"]
            if len(self.errors) == before and isinstance(block_id, str):
                if block_id in self.block_ids:
                    self.fail(f"{pointer}/block_id", f"duplicate block_id: {block_id}")
                self.block_ids.add(block_id)
        check = getattr(self, "b_" + kind, None)
        if check is None:
            self.fail(f"{pointer}/type", f"unsupported type: {kind}")
            return
        check(block, pointer)

    def b_section(self, block: dict[str, Any], pointer: str) -> None:
        self.unknown_keys(
            block, {"type", "block_id", "text", "fields", "accessory", "expand"}, pointer
        )
        if "text" not in block and "fields" not in block:
            self.fail(pointer, "must provide either text or fields")
        self.text(block, "text", pointer, required=False, maximum=MAX_SECTION_TEXT)
        if "fields" in block:
            fields = block["fields"]
            where = f"{pointer}/fields"
            if not isinstance(fields, list) or not fields:
                self.fail(where, "must provide a non-empty array")
            elif len(fields) > MAX_FIELDS:
                self.fail(where, f"must be no more than {MAX_FIELDS} items")
            else:
                for i, field in enumerate(fields):
                    self.text_object(field, f"{where}/{i}", maximum=MAX_FIELD_TEXT)
        if "accessory" in block:
            self.element(block["accessory"], f"{pointer}/accessory")

    def b_header(self, block: dict[str, Any], pointer: str) -> None:
        self.unknown_keys(block, {"type", "block_id", "text"}, pointer)
        self.text(block, "text", pointer, required=True, maximum=MAX_HEADER_TEXT, plain_only=True)

    def b_divider(self, block: dict[str, Any], pointer: str) -> None:
        self.unknown_keys(block, {"type", "block_id"}, pointer)

    def b_context(self, block: dict[str, Any], pointer: str) -> None:
        self.unknown_keys(block, {"type", "block_id", "elements"}, pointer)
        elements = self.array(block, "elements", pointer, MAX_CONTEXT_ELEMENTS)
        for i, el in enumerate(elements):
            where = f"{pointer}/elements/{i}"
            if not self.obj(el, where):
                continue
            if el.get("type") == "image":
                self.image_element(el, where)
            elif el.get("type") in TEXT_TYPES:
                self.text_object(el, where, maximum=MAX_SECTION_TEXT)
            else:
                self.fail(f"{where}/type", f"unsupported type: {el.get('type')}")

    def b_actions(self, block: dict[str, Any], pointer: str) -> None:
        self.unknown_keys(block, {"type", "block_id", "elements"}, pointer)
        for i, el in enumerate(self.array(block, "elements", pointer, MAX_ACTIONS)):
            self.element(el, f"{pointer}/elements/{i}")

    def b_image(self, block: dict[str, Any], pointer: str) -> None:
        self.unknown_keys(
            block,
            {"type", "block_id", "image_url", "slack_file", "alt_text", "title"},
            pointer,
        )
        self.image_element(block, pointer)
        self.text(block, "title", pointer, required=False, maximum=2000, plain_only=True)

    def b_markdown(self, block: dict[str, Any], pointer: str) -> None:
        self.unknown_keys(block, {"type", "block_id", "text"}, pointer)
        self.string(block, "text", pointer, required=True, maximum=MAX_MARKDOWN_TEXT)

    def b_rich_text(self, block: dict[str, Any], pointer: str) -> None:
        self.unknown_keys(block, {"type", "block_id", "elements"}, pointer)
        for i, el in enumerate(self.array(block, "elements", pointer, 100, allow_empty=True)):
            where = f"{pointer}/elements/{i}"
            if self.obj(el, where) and el.get("type") not in RICH_TEXT_ELEMENTS:
                self.fail(f"{where}/type", f"unsupported type: {el.get('type')}")
            elif isinstance(el, dict) and not isinstance(el.get("elements"), list):
                self.fail(where, "missing required field: elements")

    def b_input(self, block: dict[str, Any], pointer: str) -> None:
        self.text(block, "label", pointer, required=True, maximum=2000, plain_only=True)
        if "element" not in block:
            self.fail(pointer, "missing required field: element")
        else:
            self.element(block["element"], f"{pointer}/element")

    def b_video(self, block: dict[str, Any], pointer: str) -> None:
        for key in ("video_url", "thumbnail_url", "alt_text"):
            self.string(block, key, pointer, required=True, maximum=MAX_URL)
        self.text(block, "title", pointer, required=True, maximum=200, plain_only=True)

    def b_file(self, block: dict[str, Any], pointer: str) -> None:
        self.string(block, "external_id", pointer, required=True, maximum=255)
        if block.get("source") != "remote":
            self.fail(f"{pointer}/source", "must be one of: remote")

    def array(
        self,
        node: dict[str, Any],
        key: str,
        pointer: str,
        maximum: int,
        *,
        allow_empty: bool = False,
    ) -> list[Any]:
        if key not in node:
            self.fail(pointer, f"missing required field: {key}")
            return []
        value = node[key]
        where = f"{pointer}/{key}"
        if not isinstance(value, list) or (not value and not allow_empty):
            self.fail(where, "must provide a non-empty array")
            return []
        if len(value) > maximum:
            self.fail(where, f"must be no more than {maximum} items")
            return []
        return value


def check_blocks(blocks: list[Any], *, root: str = "/blocks") -> None:
    """Raise `BlockKitError` unless `blocks` is a message's valid Block Kit array."""
    checker = _Checker()
    if len(blocks) > MAX_BLOCKS:
        checker.fail(root, f"must be no more than {MAX_BLOCKS} items")
    else:
        for i, block in enumerate(blocks):
            checker.block(block, f"{root}/{i}")
    if checker.errors:
        raise BlockKitError(checker.errors)

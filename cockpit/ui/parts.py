"""Parts: how Python names the styled pieces of the text it builds. Their styles live in
.tcss files (cockpit.tcss), never in Python (DESIGN.md §2).

Content names a part, not a colour: `Content.styled(text, ".drafts--failed")`, where
`drafts--failed` is a component class the widget that shows the text declares in
`COMPONENT_CLASSES` and cockpit.tcss styles; data that picks a colour (a severity, a
state, a kind of entry) picks a part name.

A part is turned into its style by `resolve()` (or `style_parser()` for line-API views):
where the text is drawn (a render, a line), so a theme change shows at once, or, for
content handed to a Textual widget (a dialog's labels, an option list's rows), when it
is built. Textual would resolve a `.name` span by itself when drawing, but only in part:
no background, no `reverse`, and an `auto` colour such as $text-muted worked out against
no background (white 60% on a light theme too); `part_style()` reads every rule.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.style import Style as RichStyle
from textual.color import Color
from textual.content import Content, Span
from textual.style import Style
from textual.widget import Widget

PartStyles = dict[str, Style]
"""Part styles looked up for one widget (by `.name`): pass the same dict to resolve many
rows with one lookup per part; clear it when the widget's styles change."""


def part_style(widget: Widget, name: str) -> Style:
    """The style of the part `name` (a component class `widget` declares), as its rules
    set it: only the properties it has rules for, so the text's own background shows
    wherever the part sets none, and an `auto` colour is worked out where it is drawn."""
    styles = widget.get_component_styles(name)
    has = styles.has_rule
    text = styles.text_style if has("text_style") else RichStyle()
    color: Color | None = None
    if has("auto_color") and styles.auto_color:
        color = Color.automatic(styles.color.a * 100)
    elif has("color"):
        color = styles.color
    return Style(
        background=styles.background if has("background") else None,
        foreground=color,
        bold=text.bold,
        dim=text.dim,
        italic=text.italic,
        underline=text.underline,
        reverse=text.reverse,
        strike=text.strike,
    )


def _lookup(widget: Widget, part: str, styles: PartStyles) -> Style:
    found = styles.get(part)
    if found is None:
        found = styles[part] = part_style(widget, part[1:])
    return found


def resolve(widget: Widget, content: Content, styles: PartStyles | None = None) -> Content:
    """`content` with each part (a span styled `.name`) given the style `widget` gives
    that part."""
    styles = {} if styles is None else styles
    spans = [
        Span(span.start, span.end, _lookup(widget, span.style, styles))
        if isinstance(span.style, str) and span.style.startswith(".")
        else span
        for span in content.spans
    ]
    return Content(content.plain, spans, content.cell_length, strip_control_codes=False)


def style_parser(widget: Widget, styles: PartStyles) -> Callable[[str | Style], Style]:
    """A `parse_style` for `Content.render` that draws parts as `widget` styles them (and
    anything else as Textual would)."""

    def parse(style: str | Style) -> Style:
        if isinstance(style, Style):
            return style
        if style.startswith("."):
            return _lookup(widget, style, styles)
        return Style.parse(style)

    return parse

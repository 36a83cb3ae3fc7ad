"""The ids of the app's remappable bindings, importable without Textual.

Derived from the command registry (`cockpit.commands`, plain data), never copied: every
command's id is a binding id that `[keys]` in the config may remap.
"""

from __future__ import annotations

from cockpit.commands import COMMAND_IDS

BINDING_IDS: tuple[str, ...] = COMMAND_IDS

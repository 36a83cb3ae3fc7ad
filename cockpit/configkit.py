"""What a config section's schema is made of, for cockpit/config.py and for each remote
system's own section (`cockpit/integrations/<name>/settings.py`).

A section is a `Section` (a `msgspec.Struct` refusing unknown keys) whose fields use the
capped types here (`Name`, `Text`, `Names`: every string and list has a limit); what a
type cannot say is checked in the section's `__post_init__`, raising `Invalid(key,
message)` (`url` checks a URL). cockpit/config.py turns a failure into a `ConfigError`
naming the file and the dotted key.

`HasSystems` is what an integration reads of the settings: each configured system's
settings by name (`system(settings, name, kind)` gives one, typed).

This module imports nothing of cockpit's but `cockpit.domain.errors`: the integrations'
settings modules import it, and cockpit/config.py imports the integrations' registry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Protocol, TypeVar

import msgspec
from msgspec import Meta

from cockpit.domain.errors import CockpitError


class ConfigError(CockpitError):
    def __init__(self, path: Path | None, key: str, message: str) -> None:
        self.path, self.key = path, key
        where = str(path) if path else "configuration"
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


# -- limits and capped types ----------------------------------------------------------------
NAME_MAX = 1_000  # characters in a name, id, URL, path or key
TEXT_MAX = 4_000  # characters in a free text (a severity's description)
LIST_MAX = 1_000  # entries in a list or a table of tables
FILE_MAX = 1_000_000  # bytes in the file
SHOWN_MAX = 60  # characters of a bad key or value quoted back in an error

Name = Annotated[str, Meta(max_length=NAME_MAX, description="a string")]
Text = Annotated[str, Meta(max_length=TEXT_MAX, description="a string")]
Names = Annotated[tuple[Name, ...], Meta(max_length=LIST_MAX, description="a list of strings")]


class Section(msgspec.Struct, forbid_unknown_fields=True):
    """A table of the file; a key it does not declare is an error (subclasses inherit this)."""


class Invalid(ValueError):
    """A well-typed value that fails a check of meaning; raised in a section's `__post_init__`."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key, self.message = key, message


_URL = re.compile(r"https?://[^\s/]+\S*\Z")


def url(key: str, value: str, *, required: bool = True) -> str:
    """`value` checked as an http(s) URL, without a trailing slash ("" when not required)."""
    if not value:
        if required:
            raise Invalid(key, "is required (an http:// or https:// URL)")
        return value
    if not _URL.match(value):
        raise Invalid(key, f"{quote(value)} is not an http:// or https:// URL")
    return value.rstrip("/")


def quote(value: object) -> str:
    """A value as an error shows it: strings quoted and cut short, tables and lists not shown."""
    if isinstance(value, str):
        return repr(value[:SHOWN_MAX]) + ("…" if len(value) > SHOWN_MAX else "")
    if value is None or isinstance(value, bool | list | dict):
        return ""
    return str(value)


# -- what an integration reads of the settings ----------------------------------------------
class HasSystems(Protocol):
    """The settings as a system sees them (`cockpit.config.Settings` is one)."""

    @property
    def systems(self) -> Mapping[str, object]:
        """Each configured system's settings, by the system's name."""
        ...


_S = TypeVar("_S")


def system(settings: HasSystems, name: str, kind: type[_S]) -> _S:
    """The settings of system `name`, which must be configured (callers check first)."""
    found = settings.systems.get(name)
    if not isinstance(found, kind):
        raise LookupError(f"{name!r} is not configured")
    return found

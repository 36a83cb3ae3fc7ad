"""The errors the domain raises. Every one carries a message a person can act on."""

from __future__ import annotations


class CockpitError(Exception):
    """Base of every error cockpit reports to the user (never shown as a traceback)."""


class IllegalTransition(CockpitError):
    """An incident was asked to move to a status its current status does not allow."""


class TimeRefused(CockpitError):
    """A time given by the user cannot be parsed, or falls outside what is allowed."""


class PlaybookError(CockpitError):
    """A playbook file is unreadable or wrong; the message names the file and line."""


class NotFound(CockpitError):
    """An incident, entry or item that was asked for does not exist."""

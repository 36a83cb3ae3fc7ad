"""Logging for the app and the CLI: one rotating file, and no token ever in it.

`setup_logging(log_dir, secrets_values=secrets.known_values)` sends every record (from
cockpit and from the libraries it uses) to ``<log_dir>/cockpit.log``: the directory is
created 0700, the file (and each rotated copy) is 0600. A `RedactingFilter` on the
handler rewrites each record before it is written: the message with its arguments merged,
the exception text and the stack are passed through the one redactor (`cockpit.redact`):
every token value registered with it (`Secrets` registers each token it loads or is
given; the demo its throwaway ones), those `secrets_values` returns and any added with
`RedactingFilter.add`, and anything token-shaped. Control characters are stripped, so
viewing the log with `cat` or `less` is safe.

`log_path()` is the file being written, if any; `crash_note` says where it is after a
crash (or that there is none).
"""

from __future__ import annotations

import contextlib
import io
import logging
import logging.handlers
import os
from collections.abc import Callable, Iterable
from pathlib import Path

from cockpit.domain.sanitize import sanitize
from cockpit.redact import redact

LOG_FILE = "cockpit.log"
MAX_BYTES = 1_000_000
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
QUIET_LIBRARIES = ("httpx", "httpcore", "asyncio", "keyring", "markdown_it")

_saved_levels: dict[str, int] = {}  # logger levels before setup_logging, for close_logging


class RedactingFilter(logging.Filter):
    """Replaces known token values and anything token-shaped in a record's message, its
    arguments, its exception text and its stack. Never drops a record, never raises."""

    def __init__(self, secrets_values: Callable[[], Iterable[str]] = tuple) -> None:
        super().__init__()
        self._values = secrets_values
        self._extra: set[str] = set()

    def add(self, value: str) -> None:
        """Also redact `value` from now on (e.g. a derived credential)."""
        if value:
            self._extra.add(value)

    def secrets(self) -> list[str]:
        try:
            values = [v for v in self._values() if v]
        except Exception:  # a broken source must not stop logging
            values = []
        return values + list(self._extra)

    def clean(self, text: str, secrets: Iterable[str] | None = None) -> str:
        # control sequences first, so none can split a token and hide it from the redactor
        return redact(sanitize(text), self.secrets() if secrets is None else secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = self.secrets()
        try:
            message = record.getMessage()
        except Exception:
            message = f"{record.msg!s} {record.args!r}"
        try:
            record.msg = self.clean(message, secrets)
        except Exception:
            record.msg = "[log message dropped: it could not be redacted]"
        record.args = None
        if record.exc_info:
            try:
                text = logging.Formatter().formatException(record.exc_info)
            except Exception:
                text = "[exception text could not be formatted]"
            record.exc_text = self.clean(text, secrets)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.clean(record.exc_text, secrets)
        if record.stack_info:
            record.stack_info = self.clean(record.stack_info, secrets)
        return True


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating file handler whose files are created 0600 (not subject to the umask)."""

    def _open(self) -> io.TextIOWrapper:
        # a rotating handler always appends (it forces mode "a")
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(self.baseFilename, flags, 0o600)
        with contextlib.suppress(OSError):
            os.fchmod(fd, 0o600)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


def _private_dir(path: Path) -> None:
    """Create `path` (0700) if it is missing; an existing directory is left as it is."""
    if path.is_dir():
        return
    path.mkdir(parents=True, mode=0o700, exist_ok=True)
    with contextlib.suppress(OSError):
        path.chmod(0o700)


def setup_logging(
    log_dir: Path,
    *,
    secrets_values: Callable[[], Iterable[str]],
    level: int = logging.INFO,
) -> Path:
    """Log to ``<log_dir>/cockpit.log`` (rotating, 0600), redacted. Returns the file's path.

    Calling it again replaces the handler it installed before. cockpit's own loggers log
    from `level`; other libraries from WARNING.
    """
    log_dir = Path(log_dir).expanduser()
    _private_dir(log_dir)
    path = log_dir / LOG_FILE
    close_logging()
    handler = PrivateRotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=False
    )
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactingFilter(secrets_values))
    root = logging.getLogger()
    root.addHandler(handler)
    _saved_levels.setdefault("", root.level)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)  # other libraries: warnings and errors
    levels = {"cockpit": level} | dict.fromkeys(QUIET_LIBRARIES, max(level, logging.WARNING))
    for name, wanted in levels.items():
        logger = logging.getLogger(name)
        _saved_levels.setdefault(name, logger.level)
        logger.setLevel(wanted)
    return path


def redacting_filter() -> RedactingFilter | None:
    """The filter of the handler `setup_logging` installed (to `add` values), if any."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrivateRotatingFileHandler):
            for f in handler.filters:
                if isinstance(f, RedactingFilter):
                    return f
    return None


def log_path() -> Path | None:
    """The file `setup_logging` is writing to, or None when nothing is logged."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrivateRotatingFileHandler):
            return Path(handler.baseFilename)
    return None


def crash_note() -> str:
    """What to say after a crash: what is safe, and where the details are (or that no log
    was written, so the report above is all there is)."""
    path = log_path()
    if path is None:
        where = "No log was written: the report above is all there is (copy it)."
    else:
        where = f"The details are in the log:\n{path}"  # a line of its own, to copy
    return f"cockpit crashed. What you saved is on disk. {where}"


def close_logging() -> None:
    """Remove and close the handler `setup_logging` installed and put back the logger
    levels it changed (tests; shutdown)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, PrivateRotatingFileHandler):
            root.removeHandler(handler)
            handler.close()
    for name, level in _saved_levels.items():
        logging.getLogger(name or None).setLevel(level)
    _saved_levels.clear()

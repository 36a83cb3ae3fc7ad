"""The only code that touches TinyDB: crash-safe storage, locking and the store itself."""

from cockpit.store.lock import DEFAULT_TIMEOUT, StoreBusy, StoreLock
from cockpit.store.migrations import (
    CURRENT,
    MIGRATIONS,
    MigrationError,
    StoreTooNew,
    migrate,
    register_kind,
)
from cockpit.store.storage import (
    SafeJSONStorage,
    StoreConflict,
    StoreCorrupt,
    StoreLockUnusable,
    StoreUnreadable,
    StoreWriteError,
    backup_path,
)
from cockpit.store.store import (
    IncidentExists,
    Store,
    StoreClosed,
    restore_backup,
)
from cockpit.store.summaries import IncidentSummary

__all__ = [
    "CURRENT",
    "DEFAULT_TIMEOUT",
    "MIGRATIONS",
    "IncidentExists",
    "IncidentSummary",
    "MigrationError",
    "SafeJSONStorage",
    "Store",
    "StoreBusy",
    "StoreClosed",
    "StoreConflict",
    "StoreCorrupt",
    "StoreLock",
    "StoreLockUnusable",
    "StoreTooNew",
    "StoreUnreadable",
    "StoreWriteError",
    "backup_path",
    "migrate",
    "register_kind",
    "restore_backup",
]

"""cockpit: a terminal cockpit for on-call engineers."""

__version__ = "0.1.0"

"""Themes are data files (TOML) in `themes/`, shipped in the wheel as `cockpit/_themes`."""

from __future__ import annotations

import tomllib
from pathlib import Path

from textual.theme import Theme

import cockpit
from cockpit.domain.errors import CockpitError

# Our own variables: every theme defines them (the defaults cover a theme that forgets).
THEME_VARIABLES = {
    "sev-critical": "#FF5C6C",
    "sev-major": "#FFB454",
    "sev-minor": "#5FA8FF",
    "sev-unset": "#7D8794",
    "drill": "#C792EA",
    "feed-incidents": "#5FA8FF",
    "feed-alerts": "#FF8F5C",
    "feed-channel": "#4ED38A",
}
DEFAULT_THEME = "cockpit-dark"
_FIELDS = {
    "name",
    "dark",
    "primary",
    "secondary",
    "accent",
    "warning",
    "error",
    "success",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
    "luminosity_spread",
    "text_alpha",
    "variables",
}


def theme_dirs() -> list[Path]:
    pkg = Path(cockpit.__file__).parent
    return [d for d in (pkg / "_themes", pkg.parent / "themes") if d.is_dir()]


def load_theme(path: Path) -> Theme:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise CockpitError(f"theme {path}: {e}") from None
    unknown = set(data) - _FIELDS
    if unknown:
        raise CockpitError(f"theme {path}: unknown keys {', '.join(sorted(unknown))}")
    if "name" not in data or "primary" not in data:
        raise CockpitError(f"theme {path}: needs at least name and primary")
    variables = {
        **THEME_VARIABLES,
        **{str(k): str(v) for k, v in data.pop("variables", {}).items()},
    }
    return Theme(variables=variables, **data)


def load_themes() -> list[Theme]:
    seen: dict[str, Theme] = {}
    for d in theme_dirs():
        for path in sorted(d.glob("*.toml")):
            theme = load_theme(path)
            seen.setdefault(theme.name, theme)
    return list(seen.values())

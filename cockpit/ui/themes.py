"""Themes are data files (TOML) in `themes/`, shipped in the wheel as `cockpit/_themes`."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

import msgspec
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


# Where each of our variables comes from in a theme that does not name it (Textual's own
# themes: nord, gruvbox …): a colour of the theme's own colour system.
_DERIVED = {
    "sev-critical": "error",
    "sev-major": "warning",
    "sev-minor": "primary",
    "sev-unset": "",  # the foreground, toned down (below)
    "drill": "accent",
    "feed-incidents": "primary",
    "feed-alerts": "warning",
    "feed-channel": "success",
}
assert set(_DERIVED) == set(THEME_VARIABLES)


def theme_defaults(colors: Mapping[str, str], *, dark: bool) -> dict[str, str]:
    """A value for each of cockpit's own variables from a theme's colour system (the
    variables Textual generates), so any theme can style cockpit.tcss; a theme's own
    values (ours name them all) take precedence over these."""
    muted = "foreground-darken-2" if dark else "foreground-lighten-2"
    return {
        name: colors.get(_DERIVED[name] or muted) or fallback
        for name, fallback in THEME_VARIABLES.items()
    }


class ThemeChoice(msgspec.Struct, frozen=True):
    name: str  # the theme to start in
    warning: str = ""  # the saved choice could not be used: why (the saved state is repaired)
    repair: bool = False  # write the choice back to the UI state


def choose_theme(
    saved: object, saved_under: object, configured: str, available: Iterable[str]
) -> ThemeChoice:
    """The theme to start in. `[ui] theme` (`configured`) wins over the theme chosen in
    the app (`saved`, chosen while the config said `saved_under`) whenever the config
    has changed since that choice; otherwise the choice made in the app stands. A saved
    choice that is not a theme this app knows is ignored, with a warning, and repaired."""
    known = set(available)
    fallback = configured if configured in known else DEFAULT_THEME
    under = saved_under if isinstance(saved_under, str) else DEFAULT_THEME
    if saved is None or under != configured:
        return ThemeChoice(fallback)
    if not isinstance(saved, str) or saved not in known:
        shown = repr(saved)[:60]
        return ThemeChoice(
            fallback,
            f"The saved theme {shown} is not available: using {fallback}.",
            repair=True,
        )
    return ThemeChoice(saved)


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


def available_theme_names() -> list[str]:
    """Every theme the app offers: cockpit's own and Textual's built-in ones (each gets
    cockpit's variables, see `get_css_variables` in ui/app.py)."""
    from textual.theme import BUILTIN_THEMES

    return [t.name for t in load_themes()] + list(BUILTIN_THEMES)

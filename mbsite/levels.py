"""Permission levels: 0 public … 5 supergod, and the role names that map onto them."""
from __future__ import annotations

from typing import Any

PUBLIC, USER, MODERATOR, ADMIN, GOD, SUPERGOD = range(6)
LEVELS = tuple(range(6))
ROLE_LEVELS: dict[str, int] = {
    "public": PUBLIC,
    "user": USER,
    "moderator": MODERATOR,
    "admin": ADMIN,
    "god": GOD,
    "supergod": SUPERGOD,
}
LEVEL_ROLES: dict[int, str] = {v: k for k, v in ROLE_LEVELS.items()}


def clamp_level(value: Any, default: int = PUBLIC) -> int:
    """Coerce a level from data (int, numeric string, role name; 1..6 scale allowed) into 0..5."""
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return default
    if isinstance(value, str):
        key = value.strip().lower()
        if key in ROLE_LEVELS:
            return ROLE_LEVELS[key]
        try:
            value = int(float(key))
        except ValueError:
            return default
    if isinstance(value, float):
        value = int(value)
    if not isinstance(value, int):
        return default
    return max(PUBLIC, min(SUPERGOD, value))


def role_level(role: str | None) -> int:
    """The level of a role name; unknown roles are public."""
    return ROLE_LEVELS.get((role or "").strip().lower(), PUBLIC)


def role_name(level: int) -> str:
    return LEVEL_ROLES[clamp_level(level)]

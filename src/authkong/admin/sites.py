"""Checking what the dashboard, the API and the CLI ask of a site, before the registry
stores it. Each check raises Invalid naming the offending field, with a message fit to
show beside it; the bounds are the domain's own (domain/site.py), so every surface
accepts exactly what the CLI always has.
"""

import unicodedata

from authkong.admin.model import Invalid
from authkong.domain.pow import Difficulty
from authkong.domain.site import (
    MAX_TOKEN_LIFETIME,
    MIN_TOKEN_LIFETIME,
    RateLimits,
    RiskSettings,
    normalize_domain,
)

MAX_NAME = 200
MAX_DOMAINS = 100
MAX_K = 64
MAX_SOLUTION_HASHES = 2**32


CONTROL_CATEGORIES = frozenset({"Cc", "Cf"})
"""Control (NUL, ESC, newline) and format characters (bidi overrides, zero-width ones):
invisible, or rewriting what is around them, in the dashboard, a terminal or a log."""


def check_name(value: str) -> str:
    name = value.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise Invalid(f"Name the site in 1 to {MAX_NAME} characters.", field="name")
    return check_printable(name, "The site name", field="name")


def check_printable(value: str, label: str, *, field: str) -> str:
    """`value`, or Invalid if it holds a control or format character (any name shown to
    people: sites, API tokens)."""
    if any(unicodedata.category(char) in CONTROL_CATEGORIES for char in value):
        raise Invalid(f"{label} must not contain control characters.", field=field)
    return value


def check_domains(values: tuple[str, ...]) -> tuple[str, ...]:
    """Normalised, de-duplicated, in the order given."""
    if not values:
        raise Invalid("List at least one domain, such as example.com.", field="domains")
    if len(values) > MAX_DOMAINS:
        raise Invalid(f"List at most {MAX_DOMAINS} domains.", field="domains")
    try:
        return tuple(dict.fromkeys(normalize_domain(v) for v in values))
    except ValueError as exc:
        raise Invalid(str(exc), field="domains") from exc


def check_difficulty(difficulty: Difficulty) -> Difficulty:
    if not 1 <= difficulty.k <= MAX_K:
        raise Invalid(f"k must be 1 to {MAX_K}.", field="k")
    if not 1 <= difficulty.solution_hashes <= MAX_SOLUTION_HASHES:
        raise Invalid(
            "The solution difficulty must be 1 to 2**32 hashes.", field="solution_difficulty"
        )
    return difficulty


def check_token_lifetime(seconds: int) -> int:
    if not MIN_TOKEN_LIFETIME <= seconds <= MAX_TOKEN_LIFETIME:
        raise Invalid(
            f"A token lives {MIN_TOKEN_LIFETIME} to {MAX_TOKEN_LIFETIME} seconds.",
            field="token_lifetime",
        )
    return seconds


def rate_limits(ip_per_min: int, ip_burst: int, site_per_min: int) -> RateLimits:
    """RateLimits from loose input (a form, a JSON body), or Invalid(field="rate_limits")."""
    try:
        return RateLimits(ip_per_min=ip_per_min, ip_burst=ip_burst, site_per_min=site_per_min)
    except ValueError as exc:
        raise Invalid(f"Rate limits: {exc}.", field="rate_limits") from exc


def risk_settings(scoring: bool, adaptive: bool, max_wait_s: float) -> RiskSettings:
    """RiskSettings from loose input, or Invalid(field="risk")."""
    try:
        return RiskSettings(scoring=scoring, adaptive=adaptive, max_wait_s=max_wait_s)
    except ValueError as exc:
        raise Invalid(f"Risk settings: {exc}.", field="risk") from exc


def check_overlap(seconds: int) -> int:
    """How long a rotated-out secret keeps working: up to 365 days, as in the CLI."""
    if not 0 <= seconds <= 365 * 86_400:
        raise Invalid("The overlap must be 0 to 365 days.", field="overlap_s")
    return seconds

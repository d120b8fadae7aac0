"""Form fields to service arguments: what the site, member and token forms send.

Bad input raises model.Invalid with the field's name, like the service does, so the page
shows one message beside the form it came from.
"""

import math
import re

from starlette.datastructures import FormData

from authkong.admin.model import Invalid, Role, Scope
from authkong.admin.service import SiteChanges
from authkong.domain.site import PRESETS, RateLimits, RiskSettings, Site

DOMAIN_SPLIT = re.compile(r"[\s,]+")
OVERLAP_HOURS_MAX = 24 * 30


def text(data: FormData, name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


def raw(data: FormData, name: str) -> str:
    """A password: kept exactly as typed."""
    value = data.get(name)
    return value if isinstance(value, str) else ""


def checked(data: FormData, name: str) -> bool:
    return data.get(name) is not None


def integer(data: FormData, name: str, label: str, low: int, high: int) -> int:
    value = text(data, name)
    try:
        number = int(value)
    except ValueError:
        raise Invalid(f"{label} must be a whole number.", field=name) from None
    if not low <= number <= high:
        raise Invalid(f"{label} must be {low} to {high}.", field=name)
    return number


def decimal(data: FormData, name: str, label: str) -> float:
    try:
        number = float(text(data, name))
    except ValueError:
        raise Invalid(f"{label} must be a number.", field=name) from None
    if not math.isfinite(number):
        raise Invalid(f"{label} must be a number.", field=name)
    return number


def role(data: FormData, name: str = "role") -> Role:
    try:
        return Role(text(data, name))
    except ValueError:
        raise Invalid("Choose owner, admin or viewer.", field=name) from None


def scopes(data: FormData) -> frozenset[Scope]:
    chosen = set()
    for value in data.getlist("scopes"):
        try:
            if not isinstance(value, str):
                raise ValueError(value)
            chosen.add(Scope(value))
        except ValueError:
            raise Invalid("Unknown scope.", field="scopes") from None
    if not chosen:
        raise Invalid("Choose at least one scope.", field="scopes")
    return frozenset(chosen)


def new_password(data: FormData, name: str = "password") -> str:
    password, repeat = raw(data, name), raw(data, name + "_repeat")
    if password != repeat:
        raise Invalid("The two passwords differ.", field=name)
    return password


def preset_of(site: Site) -> str:
    """The preset a site's difficulty equals, or "custom" (set by the CLI)."""
    return next((name for name, d in PRESETS.items() if d == site.difficulty), "custom")


def site_values(site: Site) -> dict[str, str]:
    """A site as its edit form shows it."""
    return {
        "name": site.name,
        "domains": "\n".join(site.domains),
        "preset": preset_of(site),
        "token_lifetime": str(site.token_lifetime),
        "ip_per_min": str(site.rate_limits.ip_per_min),
        "ip_burst": str(site.rate_limits.ip_burst),
        "site_per_min": str(site.rate_limits.site_per_min),
        "scoring": "on" if site.risk.scoring else "",
        "adaptive": "on" if site.risk.adaptive else "",
        "max_wait_s": f"{site.risk.max_wait_s:g}",
    }


def submitted(data: FormData) -> dict[str, str]:
    """What was sent, to show the form again after an error."""
    return {
        key: value
        for key, value in data.multi_items()
        if isinstance(value, str) and key != "csrf_token"
    }


def site_changes(data: FormData) -> SiteChanges:
    """Every field of the site form. The service checks names, domains and lifetimes."""
    domains = tuple(d for d in DOMAIN_SPLIT.split(text(data, "domains")) if d)
    preset = text(data, "preset")
    if preset != "custom" and preset not in PRESETS:
        raise Invalid("Choose a difficulty preset.", field="preset")
    try:
        rate_limits = RateLimits(
            ip_per_min=integer(data, "ip_per_min", "Requests per minute per IP", 0, 10**7),
            ip_burst=integer(data, "ip_burst", "Burst per IP", 1, 10**7),
            site_per_min=integer(data, "site_per_min", "Requests per minute per site", 0, 10**7),
        )
        risk = RiskSettings(
            scoring=checked(data, "scoring"),
            adaptive=checked(data, "adaptive"),
            max_wait_s=decimal(data, "max_wait_s", "Maximum wait"),
        )
    except ValueError as error:
        raise Invalid(str(error).capitalize() + ".", field="max_wait_s") from None
    return SiteChanges(
        name=text(data, "name"),
        domains=domains,
        difficulty=PRESETS.get(preset),  # "custom" keeps the CLI's setting
        token_lifetime=integer(data, "token_lifetime", "Token lifetime", 1, 10**7),
        rate_limits=rate_limits,
        risk=risk,
    )

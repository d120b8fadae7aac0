"""Options and output shared by the `authkong` subcommands."""

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from authkong.admin.service import AdminService
from authkong.config import DEFAULT_DATA_DIR
from authkong.domain.clock import SystemClock
from authkong.domain.pow import Difficulty
from authkong.domain.site import (
    DEFAULT_MAX_WAIT_S,
    DEFAULT_PRESET,
    DEFAULT_RATE_IP_BURST,
    DEFAULT_RATE_IP_PER_MIN,
    DEFAULT_TOKEN_LIFETIME,
    MAX_MAX_WAIT_S,
    MAX_RATE,
    MAX_TOKEN_LIFETIME,
    MIN_TOKEN_LIFETIME,
    PRESETS,
    RateLimits,
    RiskSettings,
    Site,
    normalize_domain,
)
from authkong.storage.ephemeral_memory import MemoryEphemeralStore
from authkong.storage.registry import Registry, migrate, open_engine

F = TypeVar("F", bound=Callable[..., Any])
_DURATION = re.compile(r"^(\d+)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_DURATION_S = 365 * 86400  # longer overlaps defeat rotation, and huge ones overflow SQLite


def data_dir_option(func: F) -> F:
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=DEFAULT_DATA_DIR,
        envvar="AUTHKONG_DATA_DIR",
        show_default=True,
        help="Directory with the SQLite databases and server keys.",
    )(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(func)


def parse_duration(value: str) -> int:
    """Seconds in '90', '90s', '30m', '2h' or '1d'."""
    match = _DURATION.match(value.strip())
    if not match:
        raise click.BadParameter(f"{value!r} is not a duration like 90s, 30m, 2h or 1d")
    seconds = int(match.group(1)) * _UNITS[match.group(2)]
    if seconds > MAX_DURATION_S:
        raise click.BadParameter(f"{value!r} is longer than 365d")
    return seconds


def duration_option(_ctx: click.Context, _param: click.Parameter, value: str) -> int:
    return parse_duration(value)


def open_registry(data_dir: Path) -> Registry:
    data_dir.mkdir(parents=True, exist_ok=True)
    engine = open_engine(data_dir / "authkong.sqlite3")
    migrate(engine)
    return Registry(engine)


def open_admin(data_dir: Path) -> AdminService:
    """The service layer on the data dir's registry, as the CLI uses it."""
    return admin_on(open_registry(data_dir))


def admin_on(registry: Registry) -> AdminService:
    """The CLI's service layer on an open registry (no analytics; login throttling, which
    the CLI never needs, in memory)."""
    clock = SystemClock()
    return AdminService(registry, MemoryEphemeralStore(clock), clock)


def site_json(site: Site, secret: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "sitekey": site.sitekey,
        "name": site.name,
        "domains": list(site.domains),
        "k": site.difficulty.k,
        "solution_difficulty": site.difficulty.solution_hashes,
        "expected_hashes": site.difficulty.expected_hashes,
        "token_lifetime": site.token_lifetime,
        "rate_ip_per_min": site.rate_limits.ip_per_min,
        "rate_ip_burst": site.rate_limits.ip_burst,
        "rate_site_per_min": site.rate_limits.site_per_min,
        "risk_scoring": site.risk.scoring,
        "adaptive_difficulty": site.risk.adaptive,
        "max_wait_s": site.risk.max_wait_s,
    }
    if secret is not None:
        body["secret"] = secret
    return body


def print_site(site: Site, as_json: bool, secret: str | None = None) -> None:
    if as_json:
        click.echo(json.dumps(site_json(site, secret), indent=2))
        return
    click.echo(f"site:     {site.name}")
    click.echo(f"sitekey:  {site.sitekey}")
    if secret is not None:
        click.echo(f"secret:   {secret}")
        click.echo("          (shown once: only its hash is stored; keep it on your backend)")
    click.echo(f"domains:  {', '.join(site.domains)}")
    d = site.difficulty
    click.echo(
        f"work:     k={d.k} x {d.solution_hashes} hashes = {d.expected_hashes} expected hashes"
    )
    click.echo(f"tokens:   valid {site.token_lifetime} s, single use")
    click.echo(f"limits:   {describe_limits(site.rate_limits)}")
    click.echo(f"risk:     {describe_risk(site.risk)}")


def describe_risk(risk: RiskSettings) -> str:
    if not risk.scoring:
        return "scoring off (every token scores 1.0), fixed difficulty"
    if not risk.adaptive:
        return "scoring on, fixed difficulty"
    return f"scoring on, adaptive difficulty up to {risk.max_wait_s:g} s of work"


def describe_limits(limits: RateLimits) -> str:
    per_ip = (
        f"{limits.ip_per_min}/min per IP (burst {limits.ip_burst})"
        if limits.ip_per_min
        else "no per-IP limit"
    )
    per_site = f"{limits.site_per_min}/min per site" if limits.site_per_min else "no site cap"
    return f"{per_ip}, {per_site}; each of challenge and redeem"


def difficulty_from(
    preset: str | None, k: int | None, solution_hashes: int | None, base: Difficulty
) -> Difficulty:
    chosen = PRESETS[preset] if preset else base
    return Difficulty(k=k or chosen.k, solution_hashes=solution_hashes or chosen.solution_hashes)


def difficulty_options(func: F) -> F:
    func = click.option(
        "--difficulty",
        type=click.Choice(sorted(PRESETS)),
        default=None,
        help=f"Work preset (default {DEFAULT_PRESET}).",
    )(func)
    func = click.option(
        "--k", type=click.IntRange(1, 64), default=None, help="Solutions per challenge."
    )(func)
    func = click.option(
        "--solution-difficulty",
        "solution_hashes",
        type=click.IntRange(1, 2**32),
        default=None,
        help="Mean hashes to find one solution.",
    )(func)
    return click.option(
        "--token-lifetime",
        type=click.IntRange(MIN_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME),
        default=None,
        help=f"Seconds a response token stays valid (default {DEFAULT_TOKEN_LIFETIME}).",
    )(func)


def rate_limit_options(func: F) -> F:
    func = click.option(
        "--rate-ip-per-min",
        type=click.IntRange(0, MAX_RATE),
        default=None,
        help=f"Challenges (and redeems) per minute from one IP; 0 = off "
        f"(default {DEFAULT_RATE_IP_PER_MIN}).",
    )(func)
    func = click.option(
        "--rate-ip-burst",
        type=click.IntRange(1, MAX_RATE),
        default=None,
        help=f"How many of those one IP may make at once (default {DEFAULT_RATE_IP_BURST}).",
    )(func)
    return click.option(
        "--rate-site-per-min",
        type=click.IntRange(0, MAX_RATE),
        default=None,
        help="Cap on the site's challenges (and redeems) per minute from all IPs; 0 = off "
        "(default).",
    )(func)


def risk_options(func: F) -> F:
    func = click.option(
        "--scoring/--no-scoring",
        default=None,
        help="Weigh risk signals into each token's score (default on); off: every token "
        "scores 1.0 and no velocity is counted.",
    )(func)
    func = click.option(
        "--adaptive/--no-adaptive",
        default=None,
        help="Raise the work with the site's load and the client's velocity (default on).",
    )(func)
    return click.option(
        "--max-wait",
        "max_wait_s",
        type=click.FloatRange(0.1, MAX_MAX_WAIT_S),
        default=None,
        help=f"Seconds of work adaptive difficulty may ask of a slow browser at most "
        f"(default {DEFAULT_MAX_WAIT_S:g}).",
    )(func)


def risk_from(
    scoring: bool | None, adaptive: bool | None, max_wait_s: float | None, base: RiskSettings
) -> RiskSettings:
    return RiskSettings(
        scoring=base.scoring if scoring is None else scoring,
        adaptive=base.adaptive if adaptive is None else adaptive,
        max_wait_s=base.max_wait_s if max_wait_s is None else max_wait_s,
    )


def rate_limits_from(
    ip_per_min: int | None, ip_burst: int | None, site_per_min: int | None, base: RateLimits
) -> RateLimits:
    return RateLimits(
        ip_per_min=base.ip_per_min if ip_per_min is None else ip_per_min,
        ip_burst=base.ip_burst if ip_burst is None else ip_burst,
        site_per_min=base.site_per_min if site_per_min is None else site_per_min,
    )


def domains_from(values: tuple[str, ...]) -> tuple[str, ...]:
    try:
        return tuple(dict.fromkeys(normalize_domain(v) for v in values))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--domain") from exc


def fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)

"""`authkong site ...`: register and manage sites in the registry."""

import json
from pathlib import Path

import click

from authkong.cli._common import (
    data_dir_option,
    difficulty_from,
    difficulty_options,
    domains_from,
    duration_option,
    fail,
    json_option,
    open_registry,
    print_site,
    rate_limit_options,
    rate_limits_from,
    site_json,
)
from authkong.domain.clock import SystemClock
from authkong.domain.site import DEFAULT_PRESET, DEFAULT_TOKEN_LIFETIME, PRESETS, RateLimits, Site
from authkong.storage.registry import NewSecret, Registry, SiteNotFound


@click.group()
def site() -> None:
    """Register and manage sites."""


@site.command("create")
@click.option("--name", required=True)
@click.option(
    "--domain", "domains", multiple=True, required=True, help="Allowed hostname; repeat for more."
)
@difficulty_options
@rate_limit_options
@data_dir_option
@json_option
def site_create(
    name: str,
    domains: tuple[str, ...],
    difficulty: str | None,
    k: int | None,
    solution_hashes: int | None,
    token_lifetime: int | None,
    rate_ip_per_min: int | None,
    rate_ip_burst: int | None,
    rate_site_per_min: int | None,
    data_dir: Path,
    as_json: bool,
) -> None:
    """Register a site; prints its sitekey and its secret (shown once)."""
    registry = open_registry(data_dir)
    created = registry.create_site(
        name=name,
        domains=domains_from(domains),
        difficulty=difficulty_from(difficulty, k, solution_hashes, PRESETS[DEFAULT_PRESET]),
        token_lifetime=token_lifetime or DEFAULT_TOKEN_LIFETIME,
        now_ms=SystemClock().now_ms(),
        rate_limits=rate_limits_from(
            rate_ip_per_min, rate_ip_burst, rate_site_per_min, RateLimits()
        ),
    )
    print_site(created.site, as_json, created.secret)


@site.command("list")
@data_dir_option
@json_option
def site_list(data_dir: Path, as_json: bool) -> None:
    """List every site."""
    sites = open_registry(data_dir).all_sites()
    if as_json:
        click.echo(json.dumps([site_json(s) for s in sites], indent=2))
        return
    for s in sites:
        click.echo(f"{s.sitekey}  {s.name}  ({', '.join(s.domains)})")


def _get(registry: Registry, sitekey: str) -> Site:
    try:
        return registry.get_site(sitekey)
    except SiteNotFound:
        fail(f"no site with sitekey {sitekey}")
        raise  # unreachable; fail() exits


@site.command("show")
@click.argument("sitekey")
@data_dir_option
@json_option
def site_show(sitekey: str, data_dir: Path, as_json: bool) -> None:
    """Show one site's settings."""
    print_site(_get(open_registry(data_dir), sitekey), as_json)


@site.command("update")
@click.argument("sitekey")
@click.option("--name", default=None)
@click.option(
    "--domain", "domains", multiple=True, help="Replaces the allowed hostnames; repeat for more."
)
@difficulty_options
@rate_limit_options
@data_dir_option
@json_option
def site_update(
    sitekey: str,
    name: str | None,
    domains: tuple[str, ...],
    difficulty: str | None,
    k: int | None,
    solution_hashes: int | None,
    token_lifetime: int | None,
    rate_ip_per_min: int | None,
    rate_ip_burst: int | None,
    rate_site_per_min: int | None,
    data_dir: Path,
    as_json: bool,
) -> None:
    """Change a site's name, domains, difficulty, token lifetime or rate limits."""
    registry = open_registry(data_dir)
    current = _get(registry, sitekey)
    new_difficulty = None
    if difficulty or k or solution_hashes:
        new_difficulty = difficulty_from(difficulty, k, solution_hashes, current.difficulty)
    updated = registry.update_site(
        sitekey,
        now_ms=SystemClock().now_ms(),
        name=name,
        domains=domains_from(domains) if domains else None,
        difficulty=new_difficulty,
        token_lifetime=token_lifetime,
        rate_limits=rate_limits_from(
            rate_ip_per_min, rate_ip_burst, rate_site_per_min, current.rate_limits
        ),
    )
    print_site(updated, as_json)


@site.command("rotate-secret")
@click.argument("sitekey")
@click.option(
    "--overlap",
    "overlap_s",
    default="0",
    show_default=True,
    callback=duration_option,
    help="How long the old secret keeps working: 90s, 30m, 2h, 1d.",
)
@data_dir_option
@json_option
def site_rotate(sitekey: str, overlap_s: int, data_dir: Path, as_json: bool) -> None:
    """Issue a new secret; the old one works for the overlap window."""
    registry = open_registry(data_dir)
    try:
        rotated: NewSecret = registry.rotate_secret(
            sitekey, overlap_ms=overlap_s * 1000, now_ms=SystemClock().now_ms()
        )
    except SiteNotFound:
        fail(f"no site with sitekey {sitekey}")
        return
    if as_json:
        body = site_json(rotated.site, rotated.secret)
        body["old_secret_valid_for"] = overlap_s
        click.echo(json.dumps(body, indent=2))
        return
    print_site(rotated.site, False, rotated.secret)
    click.echo(f"old secret: valid for {overlap_s} s more")


@site.command("delete")
@click.argument("sitekey")
@data_dir_option
@json_option
def site_delete(sitekey: str, data_dir: Path, as_json: bool) -> None:
    """Delete a site; its tokens stop verifying at once."""
    try:
        open_registry(data_dir).delete_site(sitekey)
    except SiteNotFound:
        fail(f"no site with sitekey {sitekey}")
    click.echo(json.dumps({"deleted": sitekey}) if as_json else f"deleted {sitekey}")

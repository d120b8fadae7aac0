"""`authkong site ...`: register and manage sites, through the same service layer as the
dashboard and the admin API, acting as "cli" (every site; every change audited)."""

import json
from pathlib import Path

import click

from authkong.admin.model import AdminError, NotFound
from authkong.admin.service import AdminService, SiteChanges, cli_actor
from authkong.cli._common import (
    data_dir_option,
    difficulty_from,
    difficulty_options,
    domains_from,
    duration_option,
    fail,
    json_option,
    open_admin,
    print_site,
    rate_limit_options,
    rate_limits_from,
    risk_from,
    risk_options,
    site_json,
)
from authkong.domain.site import (
    DEFAULT_PRESET,
    DEFAULT_TOKEN_LIFETIME,
    PRESETS,
    RateLimits,
    RiskSettings,
    Site,
)
from authkong.storage.registry import NewSecret


@click.group()
def site() -> None:
    """Register and manage sites."""


@site.command("create")
@click.option("--name", required=True)
@click.option(
    "--domain", "domains", multiple=True, required=True, help="Allowed hostname; repeat for more."
)
@click.option(
    "--org",
    "org_name",
    default=None,
    help="The organization that owns the site. Default: the only one; none before any "
    "exists (the first owner adopts the site); required when there are several.",
)
@difficulty_options
@rate_limit_options
@risk_options
@data_dir_option
@json_option
def site_create(
    name: str,
    org_name: str | None,
    domains: tuple[str, ...],
    difficulty: str | None,
    k: int | None,
    solution_hashes: int | None,
    token_lifetime: int | None,
    rate_ip_per_min: int | None,
    rate_ip_burst: int | None,
    rate_site_per_min: int | None,
    scoring: bool | None,
    adaptive: bool | None,
    max_wait_s: float | None,
    data_dir: Path,
    as_json: bool,
) -> None:
    """Register a site; prints its sitekey and its secret (shown once)."""
    admin = open_admin(data_dir)
    actor = cli_actor(_owner_of_new_site(admin, org_name))
    try:
        created = admin.create_site(
            actor,
            name=name,
            domains=domains_from(domains),
            difficulty=difficulty_from(difficulty, k, solution_hashes, PRESETS[DEFAULT_PRESET]),
            token_lifetime=token_lifetime or DEFAULT_TOKEN_LIFETIME,
            rate_limits=rate_limits_from(
                rate_ip_per_min, rate_ip_burst, rate_site_per_min, RateLimits()
            ),
            risk=risk_from(scoring, adaptive, max_wait_s, RiskSettings()),
        )
    except AdminError as exc:
        fail(exc.message)
    print_site(created.site, as_json, created.secret)


def _owner_of_new_site(admin: AdminService, org_name: str | None) -> int | None:
    """The organization a new site goes to, so that no site is left where no one sees it."""
    if org_name is not None:
        org = admin.accounts.find_org(org_name)
        if org is None:
            fail(f"no organization named {org_name!r} (`authkong user create --org` makes one)")
        return org.id
    orgs = admin.accounts.all_orgs()
    if len(orgs) > 1:
        names = ", ".join(sorted(org.name for org in orgs))
        fail(f"there are several organizations ({names}): name the site's with --org")
    return orgs[0].id if orgs else None


@site.command("list")
@data_dir_option
@json_option
def site_list(data_dir: Path, as_json: bool) -> None:
    """List every site."""
    sites = open_admin(data_dir).list_sites(cli_actor())
    if as_json:
        click.echo(json.dumps([site_json(s) for s in sites], indent=2))
        return
    for s in sites:
        click.echo(f"{s.sitekey}  {s.name}  ({', '.join(s.domains)})")


def _get(admin: AdminService, sitekey: str) -> Site:
    try:
        return admin.get_site(cli_actor(), sitekey)
    except NotFound:
        fail(f"no site with sitekey {sitekey}")


@site.command("show")
@click.argument("sitekey")
@data_dir_option
@json_option
def site_show(sitekey: str, data_dir: Path, as_json: bool) -> None:
    """Show one site's settings."""
    print_site(_get(open_admin(data_dir), sitekey), as_json)


@site.command("update")
@click.argument("sitekey")
@click.option("--name", default=None)
@click.option(
    "--domain", "domains", multiple=True, help="Replaces the allowed hostnames; repeat for more."
)
@difficulty_options
@rate_limit_options
@risk_options
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
    scoring: bool | None,
    adaptive: bool | None,
    max_wait_s: float | None,
    data_dir: Path,
    as_json: bool,
) -> None:
    """Change a site's name, domains, difficulty, token lifetime, rate limits or risk settings."""
    admin = open_admin(data_dir)
    current = _get(admin, sitekey)
    new_difficulty = None
    if difficulty or k or solution_hashes:
        new_difficulty = difficulty_from(difficulty, k, solution_hashes, current.difficulty)
    changes = SiteChanges(
        name=name,
        domains=domains_from(domains) if domains else None,
        difficulty=new_difficulty,
        token_lifetime=token_lifetime,
        rate_limits=rate_limits_from(
            rate_ip_per_min, rate_ip_burst, rate_site_per_min, current.rate_limits
        ),
        risk=risk_from(scoring, adaptive, max_wait_s, current.risk),
    )
    try:
        updated = admin.update_site(cli_actor(), sitekey, changes)
    except NotFound:
        fail(f"no site with sitekey {sitekey}")
    except AdminError as exc:
        fail(exc.message)
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
    try:
        rotated: NewSecret = open_admin(data_dir).rotate_secret(cli_actor(), sitekey, overlap_s)
    except NotFound:
        fail(f"no site with sitekey {sitekey}")
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
        open_admin(data_dir).delete_site(cli_actor(), sitekey)
    except NotFound:
        fail(f"no site with sitekey {sitekey}")
    click.echo(json.dumps({"deleted": sitekey}) if as_json else f"deleted {sitekey}")

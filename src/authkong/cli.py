"""The `authkong` command: serve, manage sites, fetch a token, rotate server keys."""

import json
import logging
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import httpx

from authkong.config import DEFAULT_DATA_DIR, Settings
from authkong.domain.clock import SystemClock
from authkong.domain.pow import Difficulty
from authkong.domain.site import (
    DEFAULT_PRESET,
    DEFAULT_TOKEN_LIFETIME,
    MAX_TOKEN_LIFETIME,
    MIN_TOKEN_LIFETIME,
    PRESETS,
    Site,
    normalize_domain,
)
from authkong.storage import keyfile
from authkong.storage.registry import NewSecret, Registry, SiteNotFound, migrate, open_engine

F = TypeVar("F", bound=Callable[..., Any])
DEMO_DOMAINS = ("localhost", "127.0.0.1")
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


def _duration_option(_ctx: click.Context, _param: click.Parameter, value: str) -> int:
    return parse_duration(value)


def open_registry(data_dir: Path) -> Registry:
    data_dir.mkdir(parents=True, exist_ok=True)
    engine = open_engine(data_dir / "authkong.sqlite3")
    migrate(engine)
    return Registry(engine)


def site_json(site: Site, secret: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "sitekey": site.sitekey,
        "name": site.name,
        "domains": list(site.domains),
        "k": site.difficulty.k,
        "solution_difficulty": site.difficulty.solution_hashes,
        "expected_hashes": site.difficulty.expected_hashes,
        "token_lifetime": site.token_lifetime,
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
    click.echo(f"work:     k={d.k} x {d.solution_hashes} hashes = {d.expected_hashes} expected hashes")
    click.echo(f"tokens:   valid {site.token_lifetime} s, single use")


def difficulty_from(preset: str | None, k: int | None, solution_hashes: int | None, base: Difficulty) -> Difficulty:
    chosen = PRESETS[preset] if preset else base
    return Difficulty(k=k or chosen.k, solution_hashes=solution_hashes or chosen.solution_hashes)


def difficulty_options(func: F) -> F:
    func = click.option(
        "--difficulty", type=click.Choice(sorted(PRESETS)), default=None,
        help=f"Work preset (default {DEFAULT_PRESET}).",
    )(func)
    func = click.option("--k", type=click.IntRange(1, 64), default=None, help="Solutions per challenge.")(func)
    func = click.option(
        "--solution-difficulty", "solution_hashes", type=click.IntRange(1, 2**32), default=None,
        help="Mean hashes to find one solution.",
    )(func)
    return click.option(
        "--token-lifetime", type=click.IntRange(MIN_TOKEN_LIFETIME, MAX_TOKEN_LIFETIME), default=None,
        help=f"Seconds a response token stays valid (default {DEFAULT_TOKEN_LIFETIME}).",
    )(func)


def domains_from(values: tuple[str, ...]) -> tuple[str, ...]:
    try:
        return tuple(dict.fromkeys(normalize_domain(v) for v in values))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--domain") from exc


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


@click.group()
@click.version_option(package_name="authkong")
def main() -> None:
    """AuthKong: a self-hosted, privacy-first proof-of-work CAPTCHA."""


# -- serve -----------------------------------------------------------------------------


class _RedactQuery(logging.Filter):
    """Access-log lines without query strings: a GET siteverify carries the secret there."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            args = list(record.args)
            args[2] = args[2].split("?", 1)[0]
            record.args = tuple(args)
        return True


def _log_config() -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    config = json.loads(json.dumps(LOGGING_CONFIG))
    config["filters"] = {"redact_query": {"()": _RedactQuery}}
    config["handlers"]["access"]["filters"] = ["redact_query"]
    return config


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@data_dir_option
def serve(host: str, port: int, workers: int, data_dir: Path) -> None:
    """Run the HTTP service."""
    import uvicorn

    data_dir = data_dir.resolve()
    registry = open_registry(data_dir)
    keyfile.load_or_create(data_dir)
    if not registry.all_sites():
        created = registry.create_site(
            name="Demo",
            domains=DEMO_DOMAINS,
            difficulty=PRESETS[DEFAULT_PRESET],
            token_lifetime=DEFAULT_TOKEN_LIFETIME,
            now_ms=SystemClock().now_ms(),
        )
        base = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"  # noqa: S104
        click.echo("First start: created a demo site for localhost and 127.0.0.1.")
        print_site(created.site, as_json=False, secret=created.secret)
        click.echo(f"Next: open {base}/ and verify tokens at {base}/api/siteverify")
        click.echo("      register your own site with: authkong site create --name NAME --domain example.com")
    registry.engine.dispose()
    os.environ["AUTHKONG_DATA_DIR"] = str(data_dir)
    uvicorn.run(
        "authkong.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=_log_config(),
        server_header=False,
    )


# -- site ------------------------------------------------------------------------------


@main.group()
def site() -> None:
    """Register and manage sites."""


@site.command("create")
@click.option("--name", required=True)
@click.option("--domain", "domains", multiple=True, required=True, help="Allowed hostname; repeat for more.")
@difficulty_options
@data_dir_option
@json_option
def site_create(
    name: str, domains: tuple[str, ...], difficulty: str | None, k: int | None,
    solution_hashes: int | None, token_lifetime: int | None, data_dir: Path, as_json: bool,
) -> None:
    """Register a site; prints its sitekey and its secret (shown once)."""
    registry = open_registry(data_dir)
    created = registry.create_site(
        name=name,
        domains=domains_from(domains),
        difficulty=difficulty_from(difficulty, k, solution_hashes, PRESETS[DEFAULT_PRESET]),
        token_lifetime=token_lifetime or DEFAULT_TOKEN_LIFETIME,
        now_ms=SystemClock().now_ms(),
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
@click.option("--domain", "domains", multiple=True, help="Replaces the allowed hostnames; repeat for more.")
@difficulty_options
@data_dir_option
@json_option
def site_update(
    sitekey: str, name: str | None, domains: tuple[str, ...], difficulty: str | None, k: int | None,
    solution_hashes: int | None, token_lifetime: int | None, data_dir: Path, as_json: bool,
) -> None:
    """Change a site's name, domains, difficulty or token lifetime."""
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
    )
    print_site(updated, as_json)


@site.command("rotate-secret")
@click.argument("sitekey")
@click.option(
    "--overlap", "overlap_s", default="0", show_default=True, callback=_duration_option,
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


# -- keys ------------------------------------------------------------------------------


@main.group()
def keys() -> None:
    """Server keys that sign challenges and seal tokens."""


@keys.command("rotate")
@data_dir_option
def keys_rotate(data_dir: Path) -> None:
    """Make a new key pair current; restart the server to use it."""
    keyfile.load_or_create(data_dir)
    ring = keyfile.rotate(data_dir)
    click.echo(f"current key id: {ring.current} (restart `authkong serve` to sign with it)")


# -- token -----------------------------------------------------------------------------


@main.command()
@click.option("--server", required=True, help="Base URL of the AuthKong server.")
@click.option("--sitekey", required=True)
@click.option("--hostname", default="localhost", show_default=True, help="Hostname of the page being protected.")
@click.option("--action", default="")
@click.option("--cdata", default="")
@click.option("--mode", type=click.Choice(["checkbox", "invisible", "score"]), default="checkbox", show_default=True)
def token(server: str, sitekey: str, hostname: str, action: str, cdata: str, mode: str) -> None:
    """Solve a challenge natively and print the response token."""
    from authkong.solver import solve_parallel

    base = server.rstrip("/")
    try:
        with httpx.Client(timeout=60) as client:
            got = client.post(
                f"{base}/api/v1/challenge",
                json={"sitekey": sitekey, "hostname": hostname, "action": action, "cdata": cdata, "mode": mode},
            )
            if got.status_code != 200:
                fail(f"challenge refused: {got.text}")
            challenge = got.json()
            nonces = solve_parallel(bytes.fromhex(challenge["seed"]), challenge["k"], challenge["target"])
            redeemed = client.post(
                f"{base}/api/v1/redeem", json={"challenge": challenge["challenge"], "nonces": nonces}
            )
            if redeemed.status_code != 200:
                fail(f"redeem refused: {redeemed.text}")
    except httpx.HTTPError as exc:
        fail(f"cannot reach {base}: {exc}")
        return
    click.echo(redeemed.json()["token"])


def settings_for(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir)

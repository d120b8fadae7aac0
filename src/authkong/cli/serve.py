"""`authkong serve`: prepare the data dir, create the demo site once, run uvicorn."""

import json
import logging
import os
import re
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine

from authkong.admin import setup_code
from authkong.admin.accounts import Accounts
from authkong.admin.service import cli_actor
from authkong.cli._common import admin_on, data_dir_option, open_registry, print_site
from authkong.config import TRUSTED_PROXIES_ENV, Settings, check_networks
from authkong.storage import ephemeral_sqlite, keyfile

DEMO_DOMAINS = ("localhost", "127.0.0.1")


_INVITE_TOKEN = re.compile(r"(/admin/invite/)[^/?#]+")
REDACTED = "[redacted]"


def redact_path(path: str) -> str:
    """A request path as the access log may show it: no query string (a GET siteverify
    carries the secret there) and no invitation token (/admin/invite/<token> is a
    credential: whoever reads the log could join with it)."""
    return _INVITE_TOKEN.sub(rf"\g<1>{REDACTED}", path.split("?", 1)[0])


class _RedactQuery(logging.Filter):
    """Applies redact_path to uvicorn's access-log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3:
            args = list(record.args)
            path = args[2]
            if isinstance(path, str):
                args[2] = redact_path(path)
                record.args = tuple(args)
        return True


def _log_config() -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = json.loads(json.dumps(LOGGING_CONFIG))
    config["filters"] = {"redact_query": {"()": _RedactQuery}}
    config["handlers"]["access"]["filters"] = ["redact_query"]
    return config


def _networks_option(
    _ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]
) -> tuple[str, ...]:
    try:
        check_networks(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    return value


def _announce_setup(engine: Engine, data_dir: Path, base: str) -> None:
    """While no user exists, print the code that /admin's first-run setup asks for.

    Printed at every start until the owner exists, so an operator who missed it need
    not go looking; the app itself also makes the file (app.py), for other launchers.
    """
    if not Accounts(engine).any_user():
        code = setup_code.ensure(data_dir)
        click.echo(f"Set up the dashboard: open {base}/admin and enter the setup code {code}")
        click.echo(f"      (also in {setup_code.path(data_dir)}; it stops working once")
        click.echo("      the owner exists, or make one here: authkong user create --role owner)")
    else:
        setup_code.remove(data_dir)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--trusted-proxy",
    "trusted_proxies",
    multiple=True,
    callback=_networks_option,
    metavar="CIDR",
    help="Reverse proxy (address or network) whose X-Forwarded-For/Forwarded header names "
    f"the client; repeatable; replaces env {TRUSTED_PROXIES_ENV}. Default: none.",
)
@data_dir_option
def serve(
    host: str, port: int, workers: int, trusted_proxies: tuple[str, ...], data_dir: Path
) -> None:
    """Run the HTTP service."""
    import uvicorn

    if trusted_proxies:
        os.environ[TRUSTED_PROXIES_ENV] = ",".join(trusted_proxies)
    try:
        settings = Settings()  # worker processes read the environment: fail here, once
    except ValueError as error:
        raise click.UsageError(f"bad setting in the environment: {error}") from None
    if os.environ.get("FORWARDED_ALLOW_IPS"):
        click.echo(
            "FORWARDED_ALLOW_IPS is ignored: --trusted-proxy (or "
            f"{TRUSTED_PROXIES_ENV}) names the proxies trusted for every forwarded header.",
            err=True,
        )
    data_dir = data_dir.resolve()
    registry = open_registry(data_dir)
    keyfile.load_or_create(data_dir)
    ephemeral_sqlite.prepare(Settings(data_dir=data_dir).ephemeral_path)
    base = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"  # noqa: S104
    # Not merely "no sites": an owner who deleted every site does not want the demo back.
    admin = admin_on(registry)
    first_start = not registry.all_sites() and not admin.accounts.all_orgs()
    if first_start:
        # Through the service layer, as `authkong site create` does: the audit log has it,
        # and the first organization adopts the site and that entry together.
        created = admin.create_site(cli_actor(), name="Demo", domains=DEMO_DOMAINS)
        click.echo("First start: created a demo site for localhost and 127.0.0.1.")
        print_site(created.site, as_json=False, secret=created.secret)
        click.echo(f"Next: open {base}/demo to try the widget")
        click.echo(f"      verify tokens at {base}/api/siteverify")
        click.echo(f"      manage sites at {base}/admin")
        click.echo("      or here: authkong site create --name NAME --domain example.com")
    _announce_setup(registry.engine, data_dir, base)
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
        # uvicorn would otherwise take X-Forwarded-For and X-Forwarded-Proto from any peer
        # on loopback, letting a local proxy that passes the visitor's headers through
        # choose the client address. Only the configured proxies are trusted, for both.
        forwarded_allow_ips=",".join(settings.trusted_proxies),
    )

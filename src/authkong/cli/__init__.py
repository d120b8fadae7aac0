"""The `authkong` command: serve, manage sites and users, fetch a token, rotate server keys."""

import click

from authkong.cli._common import open_registry
from authkong.cli.keys import keys
from authkong.cli.serve import serve
from authkong.cli.site import site
from authkong.cli.token import token
from authkong.cli.user import user


@click.group()
@click.version_option(package_name="authkong")
def main() -> None:
    """AuthKong: a self-hosted, privacy-first proof-of-work CAPTCHA."""


for command in (serve, site, user, token, keys):
    main.add_command(command)

__all__ = ["main", "open_registry"]

"""`authkong user ...`: dashboard accounts from the command line."""

import json
import sys
from pathlib import Path

import anyio
import click

from authkong.admin import setup_code
from authkong.admin.model import AdminError, Role
from authkong.cli._common import data_dir_option, fail, json_option, open_admin

FROM_STDIN = "-"


@click.group()
def user() -> None:
    """Create dashboard users."""


@user.command("create")
@click.option("--email", required=True, help="The user's email; they log in with it.")
@click.option(
    "--password",
    required=True,
    help="The user's password, or - to read it from standard input (keeps it out of "
    "shell history and the process list).",
)
@click.option(
    "--org",
    "org_name",
    default=None,
    help='The organization to join, made if missing (default: the first one, or a new "Default").',
)
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.OWNER.value,
    show_default=True,
    help="What the user may do in the organization.",
)
@data_dir_option
@json_option
def user_create(
    email: str, password: str, org_name: str | None, role: str, data_dir: Path, as_json: bool
) -> None:
    """Create a user who can log in at /admin. The first owner adopts every site made
    before any account existed."""
    if password == FROM_STDIN:
        # One line, without its line ending: what `echo pw | authkong ...` or a file gives.
        password = sys.stdin.readline().rstrip("\r\n")
    admin = open_admin(data_dir)
    try:
        made, org = anyio.run(admin.create_user, email, password, org_name, Role(role))
    except AdminError as exc:
        fail(exc.message)
    # A user exists now, so /admin offers no first-run setup: its code is void.
    setup_code.remove(data_dir)
    if as_json:
        body = {"id": made.id, "email": made.email, "org": org.name, "role": role}
        click.echo(json.dumps(body, indent=2))
        return
    click.echo(f"user:     {made.email}")
    click.echo(f"org:      {org.name}")
    click.echo(f"role:     {role}")

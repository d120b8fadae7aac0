"""`authkong keys rotate`: a new current key pair for challenges and tokens."""

from pathlib import Path

import click

from authkong.cli._common import data_dir_option
from authkong.storage import keyfile


@click.group()
def keys() -> None:
    """Server keys that sign challenges and seal tokens."""


@keys.command("rotate")
@data_dir_option
def keys_rotate(data_dir: Path) -> None:
    """Make a new key pair current; running servers pick it up within a second."""
    data_dir.mkdir(parents=True, exist_ok=True)
    keyfile.load_or_create(data_dir)
    ring = keyfile.rotate(data_dir)
    click.echo(f"current key id: {ring.current} (running servers sign with it within a second)")

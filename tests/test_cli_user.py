"""`authkong user create`, and the `site` commands on the shared service layer (CliRunner
on a temporary data dir)."""

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner, Result

from authkong.admin import setup_code
from authkong.admin.model import Actor, Role
from authkong.admin.service import AdminService
from authkong.cli import main
from authkong.cli._common import open_admin
from tests.server import CHEAP_ARGS

PASSWORD = "correct horse battery"


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def run(data_dir: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, [*args, "--data-dir", str(data_dir)], input=stdin)


def run_json(data_dir: Path, *args: str, stdin: str | None = None) -> Any:
    result = run(data_dir, *args, "--json", stdin=stdin)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def logged_in(data_dir: Path, email: str, password: str = PASSWORD) -> tuple[AdminService, Actor]:
    admin = open_admin(data_dir)
    grant = anyio.run(admin.login, email, password, "192.0.2.1")
    found = admin.session_actor(grant.token, "192.0.2.1")
    assert found is not None
    return admin, found[1]


def test_user_create_makes_an_owner_who_adopts_earlier_sites(data_dir: Path) -> None:
    """The first `user create` makes an owner in "Default" who owns the CLI's earlier sites."""
    site = run_json(data_dir, "site", "create", "--name", "Shop", "--domain", "example.com")
    made = run_json(
        data_dir, "user", "create", "--email", "Ann@Example.com", "--password", PASSWORD
    )
    assert made["email"] == "ann@example.com"
    assert (made["org"], made["role"]) == ("Default", "owner")
    admin, owner = logged_in(data_dir, "ann@example.com")
    assert owner.role is Role.OWNER
    assert [s.sitekey for s in admin.list_sites(owner)] == [site["sitekey"]]
    assert not admin.needs_setup()


def test_user_create_text_output(data_dir: Path) -> None:
    """Without --json, `user create` prints the user, the organization and the role."""
    result = run(data_dir, "user", "create", "--email", "a@example.com", "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "user:     a@example.com",
        "org:      Default",
        "role:     owner",
    ]
    assert PASSWORD not in result.output


def test_user_create_with_org_and_role(data_dir: Path) -> None:
    """--org names (or makes) the organization and --role sets what the user may do."""
    run_json(data_dir, "user", "create", "--email", "o@acme.test", "--password", PASSWORD,
             "--org", "Acme")  # fmt: skip
    viewer = run_json(data_dir, "user", "create", "--email", "v@acme.test", "--password",
                      PASSWORD, "--org", "Acme", "--role", "viewer")  # fmt: skip
    assert (viewer["org"], viewer["role"]) == ("Acme", "viewer")
    other = run_json(data_dir, "user", "create", "--email", "x@other.test", "--password",
                     PASSWORD, "--org", "Other", "--role", "admin")  # fmt: skip
    assert (other["org"], other["role"]) == ("Other", "admin")
    admin, acme_owner = logged_in(data_dir, "o@acme.test")
    members = [(m.email, m.role) for m in admin.members(acme_owner)]
    assert members == [("o@acme.test", Role.OWNER), ("v@acme.test", Role.VIEWER)]
    _, other_admin = logged_in(data_dir, "x@other.test")
    assert other_admin.role is Role.ADMIN and other_admin.org_id != acme_owner.org_id


def test_user_create_reads_the_password_from_stdin(data_dir: Path) -> None:
    """--password - reads one line from standard input, so it stays out of shell history."""
    run_json(data_dir, "user", "create", "--email", "s@example.com", "--password", "-",
             stdin="from stdin secret\n")  # fmt: skip
    logged_in(data_dir, "s@example.com", "from stdin secret")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("--email", "bad", "--password", PASSWORD), 1, "email address"),
        (("--email", "a@example.com", "--password", "short"), 1, "at least 8"),
        (("--email", "a@example.com", "--password", PASSWORD, "--role", "god"), 2, "--role"),
        (("--email", "a@example.com"), 2, "--password"),
    ],
)
def test_user_create_refuses_bad_input(
    data_dir: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    """Bad input exits non-zero with a reason and makes nobody."""
    result = run(data_dir, "user", "create", *args)
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert open_admin(data_dir).needs_setup()


def test_user_create_refuses_a_taken_email(data_dir: Path) -> None:
    """A second user with the same email (in any case) is refused with exit 1."""
    run_json(data_dir, "user", "create", "--email", "a@example.com", "--password", PASSWORD)
    result = run(data_dir, "user", "create", "--email", "A@example.com", "--password", PASSWORD)
    assert result.exit_code == 1
    assert result.stderr == "error: A user with that email already exists.\n"


def test_site_create_with_org(data_dir: Path) -> None:
    """`site create --org` puts the site in that organization; an unknown org exits 1."""
    run_json(data_dir, "user", "create", "--email", "o@acme.test", "--password", PASSWORD,
             "--org", "Acme")  # fmt: skip
    site = run_json(data_dir, "site", "create", "--name", "S", "--domain", "example.com",
                    "--org", "Acme", *CHEAP_ARGS)  # fmt: skip
    admin, owner = logged_in(data_dir, "o@acme.test")
    assert admin.get_site(owner, site["sitekey"]).org_id == owner.org_id
    result = run(data_dir, "site", "create", "--name", "S", "--domain", "example.com",
                 "--org", "Nope")  # fmt: skip
    assert result.exit_code == 1
    assert "no organization named 'Nope'" in result.stderr


def test_site_commands_are_audited_as_cli(data_dir: Path) -> None:
    """Site create, update, rotate and delete from the CLI are in the audit log as "cli",
    without the secrets."""
    run_json(data_dir, "user", "create", "--email", "o@acme.test", "--password", PASSWORD)
    site = run_json(data_dir, "site", "create", "--name", "S", "--domain", "example.com",
                    "--org", "Default")  # fmt: skip
    run_json(data_dir, "site", "update", site["sitekey"], "--name", "T")
    rotated = run_json(data_dir, "site", "rotate-secret", site["sitekey"], "--overlap", "1h")
    run_json(data_dir, "site", "delete", site["sitekey"])
    admin, owner = logged_in(data_dir, "o@acme.test")
    log = [(e.actor, e.action) for e in admin.audit_log(owner) if e.target == site["sitekey"]]
    assert log == [
        ("cli", "site.delete"),
        ("cli", "secret.rotate"),
        ("cli", "site.update"),
        ("cli", "site.create"),
    ]
    dumped = json.dumps([e.detail for e in admin.audit_log(owner)])
    assert site["secret"] not in dumped and rotated["secret"] not in dumped


def test_user_create_voids_the_setup_code(data_dir: Path) -> None:
    """Once `user create` made someone, /admin's setup code file is gone: setup is over."""
    data_dir.mkdir(parents=True)
    code = setup_code.ensure(data_dir)
    assert setup_code.ensure(data_dir) == code  # made once, then read back
    assert setup_code.matches(data_dir, code) and not setup_code.matches(data_dir, code[:-1])
    run_json(data_dir, "user", "create", "--email", "a@example.com", "--password", PASSWORD)
    assert not setup_code.path(data_dir).exists()
    assert not setup_code.matches(data_dir, code)

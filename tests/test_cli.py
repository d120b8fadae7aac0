"""The `authkong` command in process (click's CliRunner) on a temporary data dir."""

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from authkong.cli import main, open_registry
from authkong.cli.serve import _RedactQuery, redact_path
from authkong.domain.clock import SystemClock
from authkong.domain.pow import target_for
from authkong.domain.site import hash_secret
from tests.server import CHEAP_ARGS, Server, free_port, running_server, verify


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def run(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--data-dir", str(data_dir)])


def run_json(data_dir: Path, *args: str) -> Any:
    result = run(data_dir, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def create(data_dir: Path, *extra: str, domain: str = "example.com") -> dict[str, Any]:
    body: dict[str, Any] = run_json(
        data_dir, "site", "create", "--name", "Shop", "--domain", domain, *CHEAP_ARGS, *extra
    )
    return body


# -- site create, list, show -----------------------------------------------------------


def test_site_create_prints_keys_as_text(data_dir: Path) -> None:
    """`site create` prints the sitekey, the secret once, the domains and the work."""
    result = run(data_dir, "site", "create", "--name", "Shop", "--domain", "Example.COM.")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "site:     Shop"
    assert lines[1].startswith("sitekey:  ak_")
    assert lines[2].startswith("secret:   aks_")
    assert "shown once" in lines[3]
    assert "domains:  example.com" in lines
    assert "work:     k=16 x 262144 hashes = 4194304 expected hashes" in lines


def test_site_create_json_has_sitekey_and_secret(data_dir: Path) -> None:
    """`site create --json` answers the sitekey, the secret and the chosen settings."""
    body = create(data_dir, "--domain", "*.Example.org", "--token-lifetime", "60")
    assert body["sitekey"].startswith("ak_")
    assert body["secret"].startswith("aks_")
    assert body["domains"] == ["example.com", "*.example.org"]
    assert (body["k"], body["solution_difficulty"], body["token_lifetime"]) == (4, 16, 60)
    stored = open_registry(data_dir).get_site(body["sitekey"])
    assert stored.accepts_secret(hash_secret(body["secret"]), SystemClock().now_ms())


def test_site_list_json_lists_every_site_without_secrets(data_dir: Path) -> None:
    """`site list --json` lists the sites in creation order and never a secret."""
    first, second = create(data_dir), create(data_dir, domain="other.com")
    listed = run_json(data_dir, "site", "list")
    assert [s["sitekey"] for s in listed] == [first["sitekey"], second["sitekey"]]
    assert all("secret" not in s for s in listed)
    assert first["secret"] not in json.dumps(listed)


def test_site_list_text_is_one_line_per_site(data_dir: Path) -> None:
    """`site list` prints one line per site with its sitekey, name and domains."""
    site = create(data_dir)
    result = run(data_dir, "site", "list")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"{site['sitekey']}  Shop  (example.com)"]


@pytest.mark.parametrize(
    ("args", "k", "solution_difficulty"),
    [
        (("--k", "3", "--solution-difficulty", "1000"), 3, 1000),
        (("--difficulty", "easy"), 16, 2**16),
        ((), 16, 2**18),
    ],
)
def test_site_show_json_reports_the_work(
    data_dir: Path, args: tuple[str, ...], k: int, solution_difficulty: int
) -> None:
    """`site show --json` has k, solution_difficulty and expected_hashes = k x 2**32/target."""
    made = run_json(data_dir, "site", "create", "--name", "W", "--domain", "example.com", *args)
    shown = run_json(data_dir, "site", "show", made["sitekey"])
    assert (shown["k"], shown["solution_difficulty"]) == (k, solution_difficulty)
    assert shown["expected_hashes"] == k * round(2**32 / target_for(solution_difficulty))
    assert shown["expected_hashes"] == k * solution_difficulty  # these divide 2**32 evenly
    assert "secret" not in shown


def test_a_new_site_goes_to_the_only_organization_or_asks_which(data_dir: Path) -> None:
    """Before any organization a new site waits for the first owner; with one organization
    it goes there; with several, `--org` is required (exit 1 naming them), so no site is
    left where no one can see it."""
    assert open_registry(data_dir).get_site(create(data_dir)["sitekey"]).org_id is None
    made = run(data_dir, "user", "create", "--email", "o@acme.test", "--password",
               "a long password", "--org", "Acme")  # fmt: skip
    assert made.exit_code == 0, made.output
    acme = open_registry(data_dir).get_site(create(data_dir)["sitekey"]).org_id
    assert acme is not None
    made = run(data_dir, "user", "create", "--email", "o@beta.test", "--password",
               "a long password", "--org", "Beta")  # fmt: skip
    assert made.exit_code == 0, made.output
    refused = run(data_dir, "site", "create", "--name", "S", "--domain", "example.com")
    assert refused.exit_code == 1
    assert refused.stderr == (
        "error: there are several organizations (Acme, Beta): name the site's with --org\n"
    )
    assert len(open_registry(data_dir).all_sites()) == 2


def test_site_update_changes_only_what_is_given(data_dir: Path) -> None:
    """`site update` replaces name, domains and k, and keeps the solution difficulty."""
    site = create(data_dir)
    updated = run_json(
        data_dir, "site", "update", site["sitekey"], "--name", "Store",
        "--domain", "a.com", "--domain", "*.B.com", "--k", "8",
    )  # fmt: skip
    assert updated["name"] == "Store"
    assert updated["domains"] == ["a.com", "*.b.com"]
    assert (updated["k"], updated["solution_difficulty"]) == (8, 16)
    assert run_json(data_dir, "site", "show", site["sitekey"]) == updated


@pytest.mark.parametrize(
    ("overlap", "seconds"), [("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400), ("45", 45)]
)
def test_rotate_secret_overlap_durations(data_dir: Path, overlap: str, seconds: int) -> None:
    """`rotate-secret --overlap` reads s/m/h/d; the old secret works that long and no longer."""
    site = create(data_dir)
    before = SystemClock().now_ms()
    rotated = run_json(data_dir, "site", "rotate-secret", site["sitekey"], "--overlap", overlap)
    after = SystemClock().now_ms()
    assert rotated["old_secret_valid_for"] == seconds
    stored = open_registry(data_dir).get_site(site["sitekey"])
    old, new = hash_secret(site["secret"]), hash_secret(rotated["secret"])
    assert stored.accepts_secret(old, after)
    assert not stored.accepts_secret(old, after + seconds * 1000)
    assert stored.accepts_secret(old, before + seconds * 1000 - 1)
    assert stored.accepts_secret(new, after + 10 * seconds * 1000)


def test_rotating_with_a_shorter_overlap_ends_every_older_secret_sooner(data_dir: Path) -> None:
    """A rotated out with a day's overlap, then B with an hour's: A's day is cut to that
    hour too. Then C's rotation with overlap 0 (after a leak) ends A and B at once."""
    site = create(data_dir)
    a = site["secret"]
    b = run_json(data_dir, "site", "rotate-secret", site["sitekey"], "--overlap", "1d")["secret"]
    run_json(data_dir, "site", "rotate-secret", site["sitekey"], "--overlap", "1h")
    later = open_registry(data_dir).get_site(site["sitekey"])
    now = SystemClock().now_ms()
    for old in (a, b):
        assert later.accepts_secret(hash_secret(old), now + 1_800_000)
        assert not later.accepts_secret(hash_secret(old), now + 2 * 3_600_000)
    c = run_json(data_dir, "site", "rotate-secret", site["sitekey"], "--overlap", "0")["secret"]
    stored = open_registry(data_dir).get_site(site["sitekey"])
    now = SystemClock().now_ms()
    assert [stored.accepts_secret(hash_secret(s), now) for s in (a, b, c)] == [False, False, True]


@pytest.mark.parametrize("overlap", ["5x", "1.5h", "-1h", "", "h", "2 hours", "366d"])
def test_rotate_secret_bad_duration_is_a_usage_error(data_dir: Path, overlap: str) -> None:
    """A bad `--overlap` exits 2 with a message naming the option, and rotates nothing."""
    site = create(data_dir)
    result = run(data_dir, "site", "rotate-secret", site["sitekey"], "--overlap", overlap)
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--overlap'" in result.stderr
    stored = open_registry(data_dir).get_site(site["sitekey"])
    assert len(stored.secrets) == 1


@pytest.mark.parametrize(
    "args",
    [
        ("site", "delete", "ak_nope"),
        ("site", "show", "ak_nope"),
        ("site", "update", "ak_nope", "--name", "x"),
        ("site", "rotate-secret", "ak_nope"),
    ],
)
def test_unknown_sitekey_exits_1_with_message(data_dir: Path, args: tuple[str, ...]) -> None:
    """Commands on a sitekey that does not exist exit 1 and say which one."""
    result = run(data_dir, *args)
    assert result.exit_code == 1, result.output
    assert result.stderr == "error: no site with sitekey ak_nope\n"
    assert result.stdout == ""


def test_delete_removes_the_site(data_dir: Path) -> None:
    """`site delete` removes the site; showing it afterwards exits 1."""
    site = create(data_dir)
    assert run_json(data_dir, "site", "delete", site["sitekey"]) == {"deleted": site["sitekey"]}
    assert run(data_dir, "site", "show", site["sitekey"]).exit_code == 1
    assert run_json(data_dir, "site", "list") == []


@pytest.mark.parametrize(
    "domain", ["bad domain", "http://example.com", "-a.com", "a..com", "*.", ""]
)
def test_invalid_domain_is_a_usage_error(data_dir: Path, domain: str) -> None:
    """`site create` and `site update` refuse a malformed --domain with exit 2 and a reason."""
    result = run(data_dir, "site", "create", "--name", "x", "--domain", domain)
    assert result.exit_code == 2, result.output
    assert "Invalid value for --domain: not a valid domain" in result.stderr
    site = create(data_dir)
    result = run(data_dir, "site", "update", site["sitekey"], "--domain", domain)
    assert result.exit_code == 2, result.output
    assert "not a valid domain" in result.stderr
    assert open_registry(data_dir).get_site(site["sitekey"]).domains == ("example.com",)


# -- authkong token against a real server ----------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("cli-serve")
    with running_server(root / "data", root / "logs") as running:
        yield running


@pytest.mark.server
def test_token_prints_only_a_token_that_verifies(server: Server) -> None:
    """`authkong token` prints one line, the token, which verifies with its action and cdata."""
    site = create(server.data_dir, domain="localhost")
    args = ["token", "--server", server.base_url, "--sitekey", site["sitekey"]]
    result = CliRunner().invoke(main, [*args, "--action", "login", "--cdata", "x"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    with httpx.Client(timeout=10.0) as client:
        body = verify(client, server.base_url, "turnstile", site["secret"], lines[0])
    assert body["success"] is True, body
    assert (body["action"], body["cdata"], body["hostname"]) == ("login", "x", "localhost")


@pytest.mark.server
def test_token_for_unknown_sitekey_fails_clearly(server: Server) -> None:
    """`authkong token` with a sitekey the server does not know exits 1 and prints no token."""
    result = CliRunner().invoke(
        main, ["token", "--server", server.base_url, "--sitekey", "ak_nope"]
    )
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: challenge refused:")
    assert "invalid_sitekey" in result.stderr


def test_token_without_a_server_fails_clearly() -> None:
    """`authkong token` against a closed port exits 1 with "cannot reach"."""
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(main, ["token", "--server", url, "--sitekey", "ak_x"])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"error: cannot reach {url}")


def test_site_risk_settings_are_set_shown_and_validated(data_dir: Path) -> None:
    made = create(data_dir, "--no-adaptive", "--max-wait", "3.5")
    assert (made["risk_scoring"], made["adaptive_difficulty"], made["max_wait_s"]) == (
        True,
        False,
        3.5,
    )
    run_json(data_dir, "site", "update", made["sitekey"], "--no-scoring")
    shown = run_json(data_dir, "site", "show", made["sitekey"])
    assert (shown["risk_scoring"], shown["adaptive_difficulty"], shown["max_wait_s"]) == (
        False,
        False,
        3.5,
    )
    assert "scoring off" in run(data_dir, "site", "show", made["sitekey"]).stdout
    refused = run(data_dir, "site", "update", made["sitekey"], "--max-wait", "0")
    assert refused.exit_code == 2
    assert "--max-wait" in refused.output


# -- what `authkong serve` prints and logs ---------------------------------------------


@pytest.mark.server
def test_serve_prints_the_setup_code_while_no_user_exists(server: Server) -> None:
    """The start-up output names /admin and the one-time code kept in data_dir/setup-code."""
    path = server.data_dir / "setup-code"
    assert path.stat().st_mode & 0o777 == 0o600
    code = path.read_text().strip()
    assert len(code) >= 32
    assert f"/admin and enter the setup code {code}" in server.output()


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/admin/invite/Zx9-secretInvitationToken_abc", "/admin/invite/[redacted]"),
        ("/admin/invite/tok?x=1", "/admin/invite/[redacted]"),
        ("/root/admin/invite/tok", "/root/admin/invite/[redacted]"),
        ("/api/siteverify?secret=S&response=R", "/api/siteverify"),
        ("/admin/members", "/admin/members"),
    ],
)
def test_access_log_redacts_invitation_tokens_and_query_strings(path: str, logged: str) -> None:
    """uvicorn's access-log line shows neither an invitation token nor a query string."""
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.5:5000", "GET", path, "1.1", 200), None,
    )  # fmt: skip
    assert _RedactQuery().filter(record)
    assert record.getMessage() == f'203.0.113.5:5000 - "GET {logged} HTTP/1.1" 200'
    assert redact_path(path) == logged

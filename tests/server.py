"""Real `authkong serve` processes and the CLI as a subprocess, for tests that need them.

Not a test module. `running_server` starts `authkong serve` on a free 127.0.0.1 port in
its own process group, waits until GET /healthz answers and stops it afterwards;
`create_site` runs `authkong site create --json`; `fetch_token` walks challenge, pure
Python solve and redeem over HTTP.
"""

import contextlib
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from authkong.domain.pow import solve

AUTHKONG = (sys.executable, "-m", "authkong")
HOST = "127.0.0.1"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
CLI_TIMEOUT_S = 30.0
POLL_S = 0.05  # pause between /healthz attempts; each attempt also checks the process

# Cheap work for tests: 4 solutions of 16 hashes each.
CHEAP_ARGS = ("--k", "4", "--solution-difficulty", "16")

# Each flavor's verify path, and how it says "already spent" and "bad secret".
VERIFY_PATHS = {
    "authkong": "/api/siteverify",
    "recaptcha": "/recaptcha/api/siteverify",
    "hcaptcha": "/siteverify",
    "turnstile": "/turnstile/v0/siteverify",
    "zencaptcha": "/captcha/siteverify",
}
SPENT = {
    "authkong": "already_spent",
    "recaptcha": "timeout-or-duplicate",
    "hcaptcha": "already-seen-response",
    "turnstile": "timeout-or-duplicate",
    "zencaptcha": "timeout_or_duplicate",
}
INVALID_SECRET = {
    "authkong": "invalid_secret",
    "recaptcha": "invalid-input-secret",
    "hcaptcha": "invalid-input-secret",
    "turnstile": "invalid-input-secret",
    "zencaptcha": "invalid_secret",
}

_starts = itertools.count()


@dataclass(frozen=True, slots=True)
class DemoSite:
    sitekey: str
    secret: str


@dataclass(slots=True)
class Server:
    process: "subprocess.Popen[bytes]"
    base_url: str
    port: int
    data_dir: Path
    stdout_path: Path
    stderr_path: Path

    def output(self) -> str:
        """Everything the server printed so far, stdout then stderr."""
        return self.stdout_path.read_text(errors="replace") + self.stderr_path.read_text(
            errors="replace"
        )

    def demo_site(self) -> DemoSite | None:
        """The demo site's keys from the first-start banner, or None if it printed none."""
        out = self.stdout_path.read_text(errors="replace")
        sitekey = re.search(r"^sitekey:\s+(\S+)$", out, re.MULTILINE)
        secret = re.search(r"^secret:\s+(\S+)$", out, re.MULTILINE)
        if sitekey is None or secret is None:
            return None
        return DemoSite(sitekey=sitekey.group(1), secret=secret.group(1))

    def kill_group(self) -> None:
        """SIGKILL the parent and every worker at once, as a crash or the OOM killer would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT_S)

    def stop(self) -> None:
        """SIGTERM the parent (it stops its workers); SIGKILL the group if that takes too long."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_TIMEOUT_S)
        # Workers left behind by a parent that died first go too.
        self.kill_group()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(data_dir: Path, log_dir: Path, *, workers: int = 1) -> Server:
    """Start `authkong serve` and return once /healthz answers; raise with its output if not."""
    port = free_port()
    n = next(_starts)
    log_dir.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = log_dir / f"serve-{n}.out", log_dir / f"serve-{n}.err"
    args = [*AUTHKONG, "serve", "--host", HOST, "--port", str(port), "--workers", str(workers)]
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(
            [*args, "--data-dir", str(data_dir)],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so kill_group reaches the workers
        )
    server = Server(process, f"http://{HOST}:{port}", port, data_dir, stdout_path, stderr_path)
    try:
        wait_healthy(server)
    except BaseException:
        server.stop()
        raise
    return server


def wait_healthy(server: Server, timeout_s: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            try:
                got = client.get(f"{server.base_url}/healthz")
                if got.status_code == 200 and got.text == "ok":
                    return
            except httpx.TransportError:
                pass
            try:
                code = server.process.wait(timeout=POLL_S)
            except subprocess.TimeoutExpired:
                continue
            raise RuntimeError(f"authkong serve exited with {code}:\n{server.output()}")
    raise RuntimeError(f"authkong serve not healthy after {timeout_s} s:\n{server.output()}")


@contextlib.contextmanager
def running_server(data_dir: Path, log_dir: Path, *, workers: int = 1) -> Iterator[Server]:
    server = start_server(data_dir, log_dir, workers=workers)
    try:
        yield server
    finally:
        server.stop()


# -- the CLI as a subprocess -----------------------------------------------------------


def run_cli(*args: str, data_dir: Path | None = None) -> "subprocess.CompletedProcess[str]":
    """Run `authkong ARGS [--data-dir DIR]` and return it, whatever its exit code."""
    extra = ("--data-dir", str(data_dir)) if data_dir is not None else ()
    return subprocess.run(
        [*AUTHKONG, *args, *extra],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def run_cli_json(*args: str, data_dir: Path) -> dict[str, Any]:
    done = run_cli(*args, "--json", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    body: dict[str, Any] = json.loads(done.stdout)
    return body


def create_site(data_dir: Path, *domains: str, name: str = "Cheap") -> dict[str, Any]:
    """`authkong site create --json` with cheap work and no per-IP limit (tests fetch many
    tokens from 127.0.0.1); the answer has `sitekey` and `secret`."""
    domain_args = [a for d in domains or ("example.com",) for a in ("--domain", d)]
    return run_cli_json(
        "site", "create", "--name", name, *domain_args, *CHEAP_ARGS, "--rate-ip-per-min", "0",
        data_dir=data_dir,
    )  # fmt: skip


# -- tokens and verification over HTTP -------------------------------------------------


def request_challenge(
    client: httpx.Client, base_url: str, sitekey: str, hostname: str = "example.com", **extra: str
) -> httpx.Response:
    return client.post(
        f"{base_url}/api/v1/challenge", json={"sitekey": sitekey, "hostname": hostname, **extra}
    )


def redeem(client: httpx.Client, base_url: str, challenge: dict[str, Any]) -> str:
    """Solve a challenge in pure Python and trade it for a response token."""
    nonces = solve(bytes.fromhex(challenge["seed"]), challenge["k"], challenge["target"])
    got = client.post(
        f"{base_url}/api/v1/redeem", json={"challenge": challenge["challenge"], "nonces": nonces}
    )
    assert got.status_code == 200, got.text
    token: str = got.json()["token"]
    return token


def fetch_token(
    client: httpx.Client, base_url: str, sitekey: str, hostname: str = "example.com", **extra: str
) -> str:
    """A fresh response token: challenge, solve, redeem, all over HTTP."""
    got = request_challenge(client, base_url, sitekey, hostname, **extra)
    assert got.status_code == 200, got.text
    return redeem(client, base_url, got.json())


def verify(
    client: httpx.Client, base_url: str, flavor: str, secret: str, token: str
) -> dict[str, Any]:
    """POST a form to one flavor's siteverify; the JSON answer (always HTTP 200)."""
    got = client.post(
        f"{base_url}{VERIFY_PATHS[flavor]}", data={"secret": secret, "response": token}
    )
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


def error_of(flavor: str, body: dict[str, Any]) -> str | None:
    """The one failure code a flavor's answer carries, or None on success."""
    if body["success"]:
        return None
    if flavor == "authkong":
        return str(body["error_code"])
    if flavor == "zencaptcha":
        return str(body["message"])
    codes = body["error-codes"]
    assert len(codes) == 1, body
    return str(codes[0])

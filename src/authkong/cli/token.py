"""`authkong token`: fetch, solve and redeem a challenge; print only the token."""

import click
import httpx

from authkong.cli._common import fail


@click.command()
@click.option("--server", required=True, help="Base URL of the AuthKong server.")
@click.option("--sitekey", required=True)
@click.option(
    "--hostname",
    default="localhost",
    show_default=True,
    help="Hostname of the page being protected.",
)
@click.option("--action", default="")
@click.option("--cdata", default="")
@click.option(
    "--mode",
    type=click.Choice(["checkbox", "invisible", "score"]),
    default="checkbox",
    show_default=True,
)
def token(server: str, sitekey: str, hostname: str, action: str, cdata: str, mode: str) -> None:
    """Solve a challenge natively and print the response token."""
    from authkong.solver import solve_parallel

    base = server.rstrip("/")
    try:
        with httpx.Client(timeout=60) as client:
            got = client.post(
                f"{base}/api/v1/challenge",
                json={
                    "sitekey": sitekey,
                    "hostname": hostname,
                    "action": action,
                    "cdata": cdata,
                    "mode": mode,
                },
            )
            if got.status_code != 200:
                fail(f"challenge refused: {got.text}")
            challenge = got.json()
            nonces = solve_parallel(
                bytes.fromhex(challenge["seed"]), challenge["k"], challenge["target"]
            )
            redeemed = client.post(
                f"{base}/api/v1/redeem",
                json={"challenge": challenge["challenge"], "nonces": nonces},
            )
            if redeemed.status_code != 200:
                fail(f"redeem refused: {redeemed.text}")
    except httpx.HTTPError as exc:
        fail(f"cannot reach {base}: {exc}")
        return
    click.echo(redeemed.json()["token"])

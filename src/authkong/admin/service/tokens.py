"""API tokens: creating, listing and revoking them, and the actor a bearer token is.

A token acts for the member who made it, and a token it makes acts for that member too:
removing the member, or demoting them below a token's scopes, revokes it (members.py).
"""

from authkong.admin.api_tokens import MAX_NAME as MAX_TOKEN_NAME
from authkong.admin.model import Actor, ApiToken, Forbidden, Invalid, NotFound, Scope
from authkong.admin.service._base import ANY_ORG, ServiceBase, _require
from authkong.admin.sites import check_printable


class TokensMixin(ServiceBase):
    """API tokens."""

    def create_api_token(
        self, actor: Actor, name: str, scopes: frozenset[Scope], expires_ms: int | None
    ) -> tuple[ApiToken, str]:
        """The token's value is returned once; only its hash is stored. An actor cannot
        grant scopes it does not hold, and a token cannot make one that outlives it."""
        _require(actor, Scope.TOKENS_WRITE)
        name = name.strip()
        if not 1 <= len(name) <= MAX_TOKEN_NAME:
            raise Invalid(f"Name the token in 1 to {MAX_TOKEN_NAME} characters.", field="name")
        check_printable(name, "The token name", field="name")
        if not scopes:
            raise Invalid("Give the token at least one scope.", field="scopes")
        beyond = scopes - actor.scopes
        if beyond:
            listed = ", ".join(sorted(s.value for s in beyond))
            raise Forbidden(f"You cannot grant scopes you do not hold: {listed}.")
        now = self.clock.now_ms()
        if expires_ms is not None and expires_ms <= now:
            raise Invalid("The expiry must be in the future.", field="expires_ms")
        _outlives_no_parent(actor, expires_ms)
        if actor.org_id == ANY_ORG:
            raise Invalid("An API token belongs to one organization; name it.", field="org")
        with self.registry.engine.begin() as conn:
            token, value = self.tokens.create(
                conn, actor.org_id, name, scopes, actor.member_id, expires_ms, now
            )
            detail = {"id": token.id, "scopes": sorted(s.value for s in scopes)}
            self._record(
                actor, "token.create", name, {**detail, "expires_ms": expires_ms}, conn=conn
            )
        return token, value

    def api_tokens(self, actor: Actor) -> list[ApiToken]:
        """Listing tokens needs tokens:write: viewers never learn what automation exists."""
        _require(actor, Scope.TOKENS_WRITE)
        return self.tokens.of_org(actor.org_id)

    def revoke_api_token(self, actor: Actor, token_id: int) -> None:
        _require(actor, Scope.TOKENS_WRITE)
        token = self.tokens.get(actor.org_id, token_id)
        if token is None:
            raise NotFound
        if not token.scopes <= actor.scopes:  # as for making one: no reach beyond one's own
            raise Forbidden("Only an actor holding every scope of a token may revoke it.")
        with self.registry.engine.begin() as conn:
            self.tokens.revoke(conn, token_id, self.clock.now_ms())
            self._record(actor, "token.revoke", token.name, {"id": token_id}, conn=conn)

    def token_actor(self, bearer: str, ip: str) -> Actor | None:
        """The actor for an `Authorization: Bearer` value, or None."""
        found = self.tokens.use(bearer.strip(), self.clock.now_ms())
        if found is None:
            return None
        org_id, token = found
        return Actor(
            org_id=org_id, label=f"token:{token.name}", scopes=token.scopes, ip=ip, token=token
        )


def _outlives_no_parent(actor: Actor, expires_ms: int | None) -> None:
    """Forbidden if a token asks for a token that would outlive it (no expiry is the
    latest of all): expiring a credential must not be undone by minting another."""
    parent = actor.token
    if parent is None or parent.expires_ms is None:
        return
    if expires_ms is None or expires_ms > parent.expires_ms:
        raise Forbidden(
            "A token cannot make one that outlives it: give expires_in_s so that the new "
            "token expires no later than this one."
        )

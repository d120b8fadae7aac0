"""API tokens: creating, listing and revoking them, and the actor a bearer token is."""

from authkong.admin.api_tokens import MAX_NAME as MAX_TOKEN_NAME
from authkong.admin.model import Actor, ApiToken, Forbidden, Invalid, NotFound, Scope
from authkong.admin.service._base import ANY_ORG, ServiceBase, _require


class TokensMixin(ServiceBase):
    """API tokens."""

    def create_api_token(
        self, actor: Actor, name: str, scopes: frozenset[Scope], expires_ms: int | None
    ) -> tuple[ApiToken, str]:
        """The token's value is returned once; only its hash is stored. An actor cannot
        grant scopes it does not hold."""
        _require(actor, Scope.TOKENS_WRITE)
        name = name.strip()
        if not 1 <= len(name) <= MAX_TOKEN_NAME:
            raise Invalid(f"Name the token in 1 to {MAX_TOKEN_NAME} characters.", field="name")
        if not scopes:
            raise Invalid("Give the token at least one scope.", field="scopes")
        beyond = scopes - actor.scopes
        if beyond:
            listed = ", ".join(sorted(s.value for s in beyond))
            raise Forbidden(f"You cannot grant scopes you do not hold: {listed}.")
        now = self.clock.now_ms()
        if expires_ms is not None and expires_ms <= now:
            raise Invalid("The expiry must be in the future.", field="expires_ms")
        if actor.org_id == ANY_ORG:
            raise Invalid("An API token belongs to one organization; name it.", field="org")
        token, value = self.tokens.create(
            actor.org_id, name, scopes, actor.user_id, expires_ms, now
        )
        detail = {"id": token.id, "scopes": sorted(s.value for s in scopes)}
        self._record(actor, "token.create", name, {**detail, "expires_ms": expires_ms})
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
        self.tokens.revoke(token_id, self.clock.now_ms())
        self._record(actor, "token.revoke", token.name, {"id": token_id})

    def token_actor(self, bearer: str, ip: str) -> Actor | None:
        """The actor for an `Authorization: Bearer` value, or None."""
        found = self.tokens.use(bearer.strip(), self.clock.now_ms())
        if found is None:
            return None
        org_id, token = found
        return Actor(org_id=org_id, label=f"token:{token.name}", scopes=token.scopes, ip=ip)

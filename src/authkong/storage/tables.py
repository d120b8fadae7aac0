"""Registry schema (SQLAlchemy Core). Alembic migrations under migrations/ create it."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

sites = Table(
    "sites",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sitekey", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("domains", Text, nullable=False),  # JSON list of patterns
    Column("k", Integer, nullable=False),
    Column("solution_hashes", BigInteger, nullable=False),
    Column("token_lifetime", Integer, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
    # Per-minute rates; 0 turns a limit off (migration 0002).
    Column("rate_ip_per_min", Integer, nullable=False),
    Column("rate_ip_burst", Integer, nullable=False),
    Column("rate_site_per_min", Integer, nullable=False),
    # Risk settings (migration 0003).
    Column("risk_scoring", Boolean, nullable=False),
    Column("risk_adaptive", Boolean, nullable=False),
    Column("risk_max_wait_ms", Integer, nullable=False),
    # The organization that owns the site (migration 0004); NULL for a site made by the
    # CLI before any organization existed: the first owner's organization adopts it.
    Column("org_id", Integer, ForeignKey("organizations.id", ondelete="CASCADE"), nullable=True),
)

site_secrets = Table(
    "site_secrets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("site_id", Integer, ForeignKey("sites.id", ondelete="CASCADE"), nullable=False),
    Column("digest", LargeBinary(32), nullable=False, unique=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=True),  # NULL: the current secret
)

# -- accounts (migration 0004) -----------------------------------------------------------

organizations = Table(
    "organizations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),  # normalised, lower case
    Column("password_hash", Text, nullable=False),  # Argon2id, PHC string
    Column("created_ms", BigInteger, nullable=False),
    Column("password_changed_ms", BigInteger, nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("org_id", Integer, ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), nullable=False),  # owner, admin or viewer
    Column("created_ms", BigInteger, nullable=False),
)

invitations = Table(
    "invitations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("org_id", Integer, ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("email", String(320), nullable=False),
    Column("role", String(16), nullable=False),
    Column("digest", LargeBinary(32), nullable=False, unique=True),  # SHA-256 of the link's token
    Column("created_by", Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    Column("accepted_ms", BigInteger, nullable=True),
)

sessions = Table(
    "sessions",
    metadata,
    Column("digest", LargeBinary(32), primary_key=True),  # SHA-256 of the cookie's token
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("org_id", Integer, ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    Column("seen_ms", BigInteger, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("org_id", Integer, ForeignKey("organizations.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("digest", LargeBinary(32), nullable=False, unique=True),  # SHA-256 of the token
    Column("scopes", Text, nullable=False),  # space-separated
    Column("created_by", Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=True),
    Column("last_used_ms", BigInteger, nullable=True),
    Column("revoked_ms", BigInteger, nullable=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("org_id", Integer, nullable=True, index=True),  # no FK: the record outlives the org
    Column("actor", String(320), nullable=False),  # "user:<email>", "token:<name>", "cli"
    Column("action", String(64), nullable=False),  # e.g. login, site.create, secret.rotate
    Column("target", String(200), nullable=False),  # e.g. a sitekey or an email; "" if none
    Column("detail", Text, nullable=False),  # JSON object; never a secret or a password
    Column("ip", String(64), nullable=False),
    Column("created_ms", BigInteger, nullable=False, index=True),
)

"""Registry schema (SQLAlchemy Core). Alembic migrations under migrations/ create it."""

from sqlalchemy import (
    BigInteger,
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

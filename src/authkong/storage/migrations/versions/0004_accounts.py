"""Accounts: organizations, users, memberships, invitations, sessions, API tokens, audit
log; sites belong to an organization.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _org_fk(nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "org_id", sa.Integer, sa.ForeignKey("organizations.id", ondelete="CASCADE"),
        nullable=nullable,
    )  # fmt: skip


def _creator() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )


def upgrade() -> None:
    big, ms = sa.BigInteger, "created_ms"
    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column(ms, big, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column(ms, big, nullable=False),
        sa.Column("password_changed_ms", big, nullable=False),
    )
    op.create_table(
        "memberships",
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "org_id", sa.Integer, sa.ForeignKey("organizations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column(ms, big, nullable=False),
    )  # fmt: skip
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer, primary_key=True),
        _org_fk(),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("digest", sa.LargeBinary(32), nullable=False, unique=True),
        _creator(),
        sa.Column(ms, big, nullable=False),
        sa.Column("expires_ms", big, nullable=False),
        sa.Column("accepted_ms", big, nullable=True),
    )
    op.create_table(
        "sessions",
        sa.Column("digest", sa.LargeBinary(32), primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        _org_fk(),
        sa.Column(ms, big, nullable=False),
        sa.Column("expires_ms", big, nullable=False),
        sa.Column("seen_ms", big, nullable=False),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        _org_fk(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("digest", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("scopes", sa.Text, nullable=False),
        _creator(),
        sa.Column(ms, big, nullable=False),
        sa.Column("expires_ms", big, nullable=True),
        sa.Column("last_used_ms", big, nullable=True),
        sa.Column("revoked_ms", big, nullable=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("org_id", sa.Integer, nullable=True, index=True),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column(ms, big, nullable=False, index=True),
    )
    with op.batch_alter_table("sites") as batch:
        batch.add_column(sa.Column("org_id", sa.Integer, nullable=True))
        batch.create_foreign_key(
            "fk_sites_org", "organizations", ["org_id"], ["id"], ondelete="CASCADE"
        )


def downgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.drop_constraint("fk_sites_org", type_="foreignkey")
        batch.drop_column("org_id")
    for table in (
        "audit_log", "api_tokens", "sessions", "invitations", "memberships", "users",
        "organizations",
    ):  # fmt: skip
        op.drop_table(table)

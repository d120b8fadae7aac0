"""Per-site risk settings: scoring on/off, adaptive difficulty on/off, maximum wait.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Literals, not the domain's defaults: a migration must mean the same thing forever.
COLUMNS = (
    ("risk_scoring", sa.Boolean, "1"),
    ("risk_adaptive", sa.Boolean, "1"),
    ("risk_max_wait_ms", sa.Integer, "10000"),
)


def upgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        for name, kind, default in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=False, server_default=default))


def downgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        for name, _, _ in reversed(COLUMNS):
            batch.drop_column(name)

"""Per-site rate limits: per-IP token buckets and a per-site cap.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Literals, not the domain's defaults: a migration must mean the same thing forever.
COLUMNS = (("rate_ip_per_min", 60), ("rate_ip_burst", 30), ("rate_site_per_min", 0))


def upgrade() -> None:
    # Existing sites get the defaults a new site gets.
    with op.batch_alter_table("sites") as batch:
        for name, default in COLUMNS:
            batch.add_column(
                sa.Column(name, sa.Integer, nullable=False, server_default=str(default))
            )


def downgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)

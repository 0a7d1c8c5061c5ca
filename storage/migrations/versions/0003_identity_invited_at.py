"""When a resident's account was invited to a private chat, so the invitation goes out once.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("identity") as batch:
        batch.add_column(sa.Column("invited_at", storage.types.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("identity") as batch:
        batch.drop_column("invited_at")

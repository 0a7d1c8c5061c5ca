"""A chat's state beside its binding (told how to bind, unreachable, moved to a new id); photos sent with a message.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chatbinding") as batch:
        batch.add_column(sa.Column("hinted_at", storage.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("unreachable_at", storage.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("moved_to", sa.String(), nullable=True))
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("attachments", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("attachments")
    with op.batch_alter_table("chatbinding") as batch:
        batch.drop_column("moved_to")
        batch.drop_column("unreachable_at")
        batch.drop_column("hinted_at")

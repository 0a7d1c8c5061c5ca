"""Rating rounds: each 办结 opens a new one, and a score belongs to the round it answered.

Before, a score counted for "since the request was last done" by time, so a request done again within the same
minute as its 不满意 (the console's clock stands still) counted as rated already.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("request") as batch:
        batch.add_column(sa.Column("rating_round", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("rating") as batch:
        batch.add_column(sa.Column("round", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("rating") as batch:
        batch.drop_column("round")
    with op.batch_alter_table("request") as batch:
        batch.drop_column("rating_round")

"""The language a resident last wrote in, when it differs from hers, and whether she chose hers by command.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("language_heard", sa.String(), nullable=True))
        batch.add_column(sa.Column("language_chosen", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.drop_column("language_chosen")
        batch.drop_column("language_heard")

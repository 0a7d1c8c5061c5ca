"""The console's dev-mode clock, kept so a restarted console and `doorstep digest` see the day it was moved to.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("devclock",
                    sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("now", storage.types.UTCDateTime(), nullable=False))


def downgrade() -> None:
    op.drop_table("devclock")

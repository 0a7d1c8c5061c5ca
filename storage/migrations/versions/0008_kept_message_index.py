"""Kept messages (offers whose handling failed) are listed to staff until handled: find them by status.

Revision ID: 0008
Revises: 0004
"""
from alembic import op

revision = "0008"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_offer_status", "offer", ["status"])


def downgrade() -> None:
    op.drop_index("ix_offer_status", "offer")

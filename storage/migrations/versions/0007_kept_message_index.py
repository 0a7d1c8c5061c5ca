"""Kept messages (offers whose handling failed) are listed to staff until handled: find them by status.

Revision ID: 0007
Revises: 0006
"""
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_offer_status", "offer", ["status"])


def downgrade() -> None:
    op.drop_index("ix_offer_status", "offer")

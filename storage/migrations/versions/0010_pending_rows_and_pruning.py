"""Hot tables indexed on their pending rows only, follow-ups retried after a failure, the ledger indexed by age.

The sweep, the outbox and filing's look-up of an open request like a new report go through partial indexes that
hold only pending (or open) rows, so sent messages, fired follow-ups and closed requests (most of each table) cost
them nothing, and no statistics can make a full scan look cheaper; the message ledger is pruned by age.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")
UNSENT = sa.text("status IN ('pending', 'sending')")
HELD = sa.text("status = 'held'")
OPEN = sa.text("state IN ('new', 'assigned', 'claimed', 'reopened')")


def upgrade() -> None:
    with op.batch_alter_table("followup") as batch:
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("retry_at", storage.types.UTCDateTime(timezone=True), nullable=True))
    op.drop_index("ix_followup_pending_due", table_name="followup")
    op.create_index("ix_followup_due", "followup", ["due_at", "id"], sqlite_where=PENDING, postgresql_where=PENDING)
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.create_index("ix_outbox_due", "outbox", ["channel", "next_attempt_at"], sqlite_where=UNSENT,
                    postgresql_where=UNSENT)
    op.create_index("ix_outbox_held", "outbox", ["person_id"], sqlite_where=HELD, postgresql_where=HELD)
    op.create_index("ix_processedmessage_at", "processedmessage", ["at"])
    op.create_index("ix_request_open_like", "request", ["category", "building", "id"], sqlite_where=OPEN,
                    postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index("ix_request_open_like", table_name="request")
    op.drop_index("ix_processedmessage_at", table_name="processedmessage")
    op.drop_index("ix_outbox_held", table_name="outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.create_index("ix_outbox_due", "outbox", ["status", "channel", "next_attempt_at"])
    op.drop_index("ix_followup_due", table_name="followup")
    op.create_index("ix_followup_pending_due", "followup", ["status", "due_at"])
    with op.batch_alter_table("followup") as batch:
        batch.drop_column("retry_at")
        batch.drop_column("attempts")

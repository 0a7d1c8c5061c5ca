"""Indexes for figures and lists that cost what they show, not all of history (issue 15).

The open backlog and what is overdue are counted from an index alone; a staff member's work list and a resident's
own list read her rows only; the digest counts a day's timeline entries and a window's second reports by range.

Revision ID: 0009
Revises: 0008
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # With the number included, PostgreSQL answers from the index alone (SQLite's indexes always carry it).
    op.create_index("ix_request_state_due", "request", ["state", "level", "responded_at", "respond_by", "resolve_by"],
                    postgresql_include=["id"])
    op.create_index("ix_request_assignee_state", "request",
                    ["assignee_id", "state", "responded_at", "respond_by", "resolve_by"], postgresql_include=["id"])
    op.drop_index("ix_request_assignee_id", table_name="request")  # the new one leads with assignee_id
    op.create_index("ix_event_action_at", "event", ["action", "at"])
    op.create_index("ix_follower_person_id", "follower", ["person_id"])
    op.create_index("ix_follower_created_at", "follower", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_follower_created_at", table_name="follower")
    op.drop_index("ix_follower_person_id", table_name="follower")
    op.drop_index("ix_event_action_at", table_name="event")
    op.create_index("ix_request_assignee_id", "request", ["assignee_id"])
    op.drop_index("ix_request_assignee_state", table_name="request")
    op.drop_index("ix_request_state_due", table_name="request")

"""event groups: the events of one lookup of one client go out as one message

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 19:00:00

``event.group_key`` names the lookup an event came from (``acis:CLIENT:LOOKUP``); the
dispatcher sends a recipient one message for the events of a group. Events stored before have
none and go out alone, as they did.

Plain ALTER TABLE on SQLite too (``recreate="never"``; SQLite 3.35 or later drops a column):
recreating ``event`` would delete the rows that refer to it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event", recreate="never") as batch:
        batch.add_column(sa.Column("group_key", sa.String(length=120), nullable=True))
        batch.create_index("ix_event_group_key", ["group_key"])


def downgrade() -> None:
    with op.batch_alter_table("event", recreate="never") as batch:
        batch.drop_index("ix_event_group_key")
        batch.drop_column("group_key")

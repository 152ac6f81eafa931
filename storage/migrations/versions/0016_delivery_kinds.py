"""delivery kinds: each outbox row names its kind, whose handler prepares and follows it up

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 03:00:00

``delivery.kind`` is new: ``staff_alert`` for an event to a staff member's channel (every row
before this one without a reminder), ``client_reminder`` for a row with a ``reminder_id``. New
kinds register a handler in ``monitor/outbox.py`` instead of another ``if`` in the dispatcher.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=30), nullable=False, server_default="staff_alert")
        )
    op.execute("UPDATE delivery SET kind = 'client_reminder' WHERE reminder_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("delivery") as batch:
        batch.drop_column("kind")

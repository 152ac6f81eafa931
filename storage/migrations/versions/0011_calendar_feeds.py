"""calendar feeds: each staff member's secret, revocable calendar address

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 19:30:00

``staff.calendar_token_digest`` holds the SHA-256 of the secret in the staff member's calendar
feed address (never the secret itself); issuing a new address replaces it, revoking clears it.

Plain ALTER TABLE on SQLite too (``recreate="never"``; SQLite 3.35 or later drops a column):
recreating ``staff`` would delete the rows that refer to it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff", recreate="never") as batch:
        batch.add_column(sa.Column("calendar_token_digest", sa.String(length=64), nullable=True))
        batch.create_index("ix_staff_calendar_token_digest", ["calendar_token_digest"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("staff", recreate="never") as batch:
        batch.drop_index("ix_staff_calendar_token_digest")
        batch.drop_column("calendar_token_digest")

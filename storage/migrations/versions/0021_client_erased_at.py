"""clients erased: when a client's personal data was removed (the anonymous row stays)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 07:10:00

``docketwatch clients erase`` (and the retention pass, for clients closed long ago) removes a
client's name, A-number and every personal detail, keeping the anonymous row so that the
program's reports still add up; ``client.erased_at`` says when.
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("client") as batch:
        batch.add_column(sa.Column("erased_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("client") as batch:
        batch.drop_column("erased_at")

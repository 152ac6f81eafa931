"""inbound replies: the gateway's message ids of the STOP replies acted on

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 04:25:00

``inbound_reply`` keeps the ``MessageSid`` of every STOP (or ALTO ...) reply docketwatch acted
on: the same signed request sent again (Twilio's signature carries no time) changes nothing,
so an old STOP cannot withdraw a consent recorded after it.
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_reply",
        sa.Column("message_sid", sa.String(length=64), primary_key=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("inbound_reply")

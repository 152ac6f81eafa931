"""one name per source: stored check requests name their source as everything else does

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 12:00:00

Check requests for ICE's detainee locator were stored with the planner's old name for it,
``locator``; every other table (crawl runs, heartbeats, events) already said
``detainee_locator``. Data only: no column changes.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

RENAMED = {"locator": "detainee_locator"}


def upgrade() -> None:
    for old, new in RENAMED.items():
        op.execute(
            sa.text("UPDATE check_request SET source = :new WHERE source = :old").bindparams(
                new=new, old=old
            )
        )


def downgrade() -> None:
    for old, new in RENAMED.items():
        op.execute(
            sa.text("UPDATE check_request SET source = :old WHERE source = :new").bindparams(
                new=new, old=old
            )
        )

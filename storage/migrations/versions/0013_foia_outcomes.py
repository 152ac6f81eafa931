"""FOIA proceedings: outcome, first EOIR-28 and first master hearing, for the reports

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 23:30:00

``foia_proceeding`` gains what the representation report reads: the decision (``dec_code``, or
``other_comp`` for another completion) and ``absentia`` as EOIR coded them, the case's first
EOIR-28 date (``counsel_date``) and the proceeding's initial master calendar hearing
(``first_master_date``, from HEARING_DATE). Releases loaded before this revision keep blanks
there: load the release again for its representation report.

Plain ALTER TABLE on SQLite (``recreate="never"``).
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("foia_proceeding", recreate="never") as batch:
        for name in ("dec_code", "other_comp", "absentia"):
            batch.add_column(
                sa.Column(name, sa.String(length=1), nullable=False, server_default="")
            )
        batch.add_column(sa.Column("counsel_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("first_master_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("foia_proceeding") as batch:
        for name in ("first_master_date", "counsel_date", "absentia", "other_comp", "dec_code"):
            batch.drop_column(name)

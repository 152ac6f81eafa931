"""roster sync: a program's roster source, its runs, and which source lists each client

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 14:20:00

``docketwatch clients sync`` reads a program's complete list of active clients (a CSV or XLSX
export, LegalServer's Reports or Core API). ``roster_sync`` is each program's source (its token
sealed), ``roster_sync_run`` each sync and what it did; ``client.roster_source`` names the source
that lists a client (none: added by hand, never deactivated by a sync) and ``roster_missed``
counts the syncs in a row that omitted it.
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime
from storage.secrets import SealedString

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("client") as batch:
        batch.add_column(sa.Column("roster_source", sa.String(64), nullable=True))
        batch.add_column(
            sa.Column("roster_missed", sa.Integer(), nullable=False, server_default="0")
        )
    op.create_table(
        "roster_sync",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "organization_id", sa.Integer(), sa.ForeignKey("organization.id"), nullable=False
        ),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("source", sa.String(1000), nullable=False),
        sa.Column("token", SealedString(), nullable=True),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("interval_minutes", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("failing", sa.Boolean(), nullable=False),
        sa.Column("refused_since", UTCDateTime(), nullable=True),
        sa.Column("rejects_digest", sa.String(64), nullable=False),
        sa.UniqueConstraint("organization_id", name="uq_roster_sync_organization_id"),
    )
    op.create_table(
        "roster_sync_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "organization_id", sa.Integer(), sa.ForeignKey("organization.id"), nullable=False
        ),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "rows",
                "added",
                "updated",
                "unchanged",
                "deactivated",
                "reactivated",
                "rejected",
            )
        ),
        sa.Column("message", sa.String(2000), nullable=False),
    )
    op.create_index("ix_roster_sync_run_organization_id", "roster_sync_run", ["organization_id"])


def downgrade() -> None:
    op.drop_index("ix_roster_sync_run_organization_id", "roster_sync_run")
    op.drop_table("roster_sync_run")
    op.drop_table("roster_sync")
    with op.batch_alter_table("client") as batch:
        batch.drop_column("roster_missed")
        batch.drop_column("roster_source")

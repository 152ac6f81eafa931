"""federal dockets: clients' habeas petitions and petitions for review, through CourtListener

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 17:00:00

``federal_account`` is the deployment's CourtListener account (its token sealed, the hour's
request budget, the time before which CourtListener asked not to be called). ``federal_docket``
is a docket as CourtListener has it (its docket alert, the newest entry stored), shared by every
program that links it; ``federal_case`` is a program's link of a client to a court and docket
number (resolved to a docket, or said unknown and kept to retry); ``federal_entry`` the entries
stored, ``federal_hearing`` the hearings entries set (for the calendar feeds),
``federal_webhook`` each DOCKET_ALERT event received by its Idempotency-Key.
``client.federal_cases`` is the roster's Federal Case column.
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime
from storage.secrets import SealedString

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("client") as batch:
        batch.add_column(
            sa.Column("federal_cases", sa.String(400), nullable=False, server_default="")
        )
    op.create_table(
        "federal_account",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token", SealedString(), nullable=True),
        sa.Column("window_start", UTCDateTime(), nullable=True),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("not_before", UTCDateTime(), nullable=True),
    )
    op.create_table(
        "federal_docket",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("docket_id", sa.Integer(), nullable=False),
        sa.Column("court", sa.String(20), nullable=False),
        sa.Column("docket_number", sa.String(60), nullable=False),
        sa.Column("case_name", sa.String(300), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("last_entry_id", sa.Integer(), nullable=False),
        sa.Column("polled_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("docket_id", name="uq_federal_docket_docket_id"),
    )
    op.create_index("ix_federal_docket_court", "federal_docket", ["court"])
    op.create_table(
        "federal_case",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "organization_id", sa.Integer(), sa.ForeignKey("organization.id"), nullable=False
        ),
        sa.Column("client_id", sa.Integer(), sa.ForeignKey("client.id"), nullable=False),
        sa.Column("court", sa.String(20), nullable=False),
        sa.Column("docket_number", sa.String(60), nullable=False),
        sa.Column("docket_id", sa.Integer(), sa.ForeignKey("federal_docket.id"), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("message", sa.String(300), nullable=False),
        sa.Column("baseline", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("client_id", "court", "docket_number", name="uq_federal_case_link"),
    )
    for column in ("organization_id", "client_id", "docket_id"):
        op.create_index(f"ix_federal_case_{column}", "federal_case", [column])
    op.create_table(
        "federal_entry",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("docket_id", sa.Integer(), sa.ForeignKey("federal_docket.id"), nullable=False),
        sa.Column("entry_number", sa.Integer(), nullable=True),
        sa.Column("date_filed", sa.Date(), nullable=True),
        sa.Column("description", sa.String(4000), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=True),
        sa.Column("kinds", sa.JSON(), nullable=True),
        sa.Column("via", sa.String(10), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("entry_id", name="uq_federal_entry_entry_id"),
    )
    op.create_index("ix_federal_entry_docket_id", "federal_entry", ["docket_id"])
    op.create_table(
        "federal_hearing",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("docket_id", sa.Integer(), sa.ForeignKey("federal_docket.id"), nullable=False),
        sa.Column("entry_id", sa.Integer(), sa.ForeignKey("federal_entry.id"), nullable=False),
        sa.Column("hearing_on", sa.Date(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=True),
        sa.Column("what", sa.String(200), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("entry_id", name="uq_federal_hearing_entry_id"),
    )
    op.create_index("ix_federal_hearing_docket_id", "federal_hearing", ["docket_id"])
    op.create_table(
        "federal_webhook",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("note", sa.String(300), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("key", name="uq_federal_webhook_key"),
    )


def downgrade() -> None:
    op.drop_table("federal_webhook")
    op.drop_index("ix_federal_hearing_docket_id", "federal_hearing")
    op.drop_table("federal_hearing")
    op.drop_index("ix_federal_entry_docket_id", "federal_entry")
    op.drop_table("federal_entry")
    for column in ("organization_id", "client_id", "docket_id"):
        op.drop_index(f"ix_federal_case_{column}", "federal_case")
    op.drop_table("federal_case")
    op.drop_index("ix_federal_docket_court", "federal_docket")
    op.drop_table("federal_docket")
    op.drop_table("federal_account")
    with op.batch_alter_table("client") as batch:
        batch.drop_column("federal_cases")

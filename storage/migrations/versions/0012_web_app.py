"""web app: passwords, sessions, audit log

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 21:00:00

``staff.password_hash`` (argon2id) lets a staff member sign in to the web app, and
``staff.password_link_digest`` / ``_expires_at`` hold a one-time link to set it; ``web_session``
holds the SHA-256 of each session's secret, its CSRF token and its expiry; ``audit_entry``
records sign-ins and every view of a full A-number or name.

Plain ALTER TABLE on SQLite (``recreate="never"``): recreating ``staff`` would delete the rows
that refer to it.
"""

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff", recreate="never") as batch:
        batch.add_column(sa.Column("password_hash", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("password_link_digest", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("password_link_expires_at", UTCDateTime(), nullable=True))
    op.create_table(
        "web_session",
        sa.Column("digest", sa.String(length=64), primary_key=True),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_web_session_staff_id", "web_session", ["staff_id"])
    op.create_index("ix_web_session_expires_at", "web_session", ["expires_at"])
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.Integer(), sa.ForeignKey("client.id"), nullable=True),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
    )
    op.create_index("ix_audit_entry_at", "audit_entry", ["at"])
    op.create_index("ix_audit_entry_staff_id", "audit_entry", ["staff_id"])
    op.create_index("ix_audit_entry_client_id", "audit_entry", ["client_id"])


def downgrade() -> None:
    op.drop_table("audit_entry")
    op.drop_table("web_session")
    with op.batch_alter_table("staff", recreate="never") as batch:
        batch.drop_column("password_link_expires_at")
        batch.drop_column("password_link_digest")
        batch.drop_column("password_hash")

"""client hearing reminders: consent and contact, reviewed languages, reminders in the outbox

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 03:00:00

``reminder_contact`` holds a client's recorded consent (who, when, how), the sealed phone number
with its keyed digest, SMS or WhatsApp, the reminder language, and the attorney's pause;
``reminder_language`` the languages switched on after a person reviewed their texts;
``reminder`` one reminder of one hearing under one rule, from due to sent (or why not).

The outbox (``delivery``) carries reminders too: ``reminder_id`` is new, and ``event_id``,
``staff_id`` and ``channel_id`` may be empty for a reminder's row (a check constraint keeps one
kind of recipient per row). On SQLite that needs the table rebuilt; ``delivery_attempt`` refers to
it, so its rows wait in a plain table meanwhile (see ``_attempts_aside``).
"""

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime
from storage.secrets import SealedString

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

CHECK = (
    "(reminder_id IS NULL AND event_id IS NOT NULL AND staff_id IS NOT NULL"
    " AND channel_id IS NOT NULL) OR (reminder_id IS NOT NULL AND event_id IS NULL"
    " AND staff_id IS NULL AND channel_id IS NULL)"
)


@contextmanager
def _attempts_aside(sqlite: bool) -> Iterator[None]:
    """On SQLite, the delivery attempts wait in a plain table while ``delivery`` is rebuilt:
    dropping a table whose rows are referred to fails with foreign keys on (and the pragma that
    turns them off does nothing inside the migration's transaction)."""
    if not sqlite:
        yield
        return
    op.execute("CREATE TABLE _attempts_aside AS SELECT * FROM delivery_attempt")
    op.execute("DELETE FROM delivery_attempt")
    yield
    op.execute("INSERT INTO delivery_attempt SELECT * FROM _attempts_aside")
    op.execute("DROP TABLE _attempts_aside")


def upgrade() -> None:
    op.create_table(
        "reminder_contact",
        sa.Column("client_id", sa.Integer(), sa.ForeignKey("client.id"), primary_key=True),
        sa.Column("phone", SealedString(), nullable=False),
        sa.Column("phone_digest", sa.String(length=64), nullable=False),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("timezone", sa.String(length=40), nullable=False),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("consent_by", sa.String(length=200), nullable=False),
        sa.Column("consent_at", UTCDateTime(), nullable=True),
        sa.Column("consent_how", sa.String(length=12), nullable=False),
        sa.Column("withdrawn_at", UTCDateTime(), nullable=True),
        sa.Column("withdrawn_how", sa.String(length=200), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("paused_by", sa.String(length=200), nullable=False),
        sa.Column("paused_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_reminder_contact_phone_digest", "reminder_contact", ["phone_digest"])
    op.create_table(
        "reminder_language",
        sa.Column("code", sa.String(length=5), primary_key=True),
        sa.Column("reviewed_by", sa.String(length=200), nullable=False),
        sa.Column("reviewed_at", UTCDateTime(), nullable=False),
        sa.Column("texts_sha256", sa.String(length=64), nullable=False),
    )
    op.create_table(
        "reminder",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("client_id", sa.Integer(), sa.ForeignKey("client.id"), nullable=False),
        sa.Column("rule", sa.String(length=12), nullable=False),
        sa.Column("hearing_key", sa.String(length=300), nullable=False),
        sa.Column("hearing", sa.JSON(), nullable=False),
        sa.Column("hearing_starts_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("lookup_requested_at", UTCDateTime(), nullable=True),
        sa.Column(
            "verified_lookup_id", sa.Integer(), sa.ForeignKey("acis_lookup.id"), nullable=True
        ),
        sa.Column("deferred_until", UTCDateTime(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("event.id"), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.UniqueConstraint("client_id", "rule", "hearing_key", name="uq_reminder"),
    )
    op.create_index("ix_reminder_client_id", "reminder", ["client_id"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    with (
        _attempts_aside(sqlite),
        op.batch_alter_table("delivery", recreate="always" if sqlite else "never") as batch,
    ):
        batch.add_column(sa.Column("reminder_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_delivery_reminder_id", "reminder", ["reminder_id"], ["id"])
        batch.create_index("ix_delivery_reminder_id", ["reminder_id"])
        for name in ("event_id", "staff_id", "channel_id"):
            batch.alter_column(name, existing_type=sa.Integer(), nullable=True)
        batch.create_check_constraint("ck_delivery_recipient", CHECK)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.execute(
        "DELETE FROM delivery_attempt WHERE delivery_id IN "
        "(SELECT id FROM delivery WHERE reminder_id IS NOT NULL)"
    )
    op.execute("DELETE FROM delivery WHERE reminder_id IS NOT NULL")
    with (
        _attempts_aside(sqlite),
        op.batch_alter_table("delivery", recreate="always" if sqlite else "never") as batch,
    ):
        batch.drop_constraint("ck_delivery_recipient", type_="check")
        batch.drop_index("ix_delivery_reminder_id")
        batch.drop_constraint("fk_delivery_reminder_id", type_="foreignkey")
        batch.drop_column("reminder_id")
        for name in ("event_id", "staff_id", "channel_id"):
            batch.alter_column(name, existing_type=sa.Integer(), nullable=False)
    op.drop_table("reminder")
    op.drop_table("reminder_language")
    op.drop_table("reminder_contact")

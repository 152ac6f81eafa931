"""roster sync and case notes: a program's roster source, its runs, which source lists each
client; its LegalServer site, and the case notes written there

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 14:20:00

``docketwatch clients sync`` reads a program's complete list of active clients (a CSV or XLSX
export, LegalServer's Reports or Core API). ``roster_sync`` is each program's source (its token
sealed), ``roster_sync_run`` each sync and what it did; ``client.roster_source`` names the source
that lists a client (none: added by hand, never deactivated by a sync) and ``roster_missed``
counts the syncs in a row that omitted it. ``case_system`` is a program's LegalServer site (its
token sealed), ``client.case_uuid`` the client's matter there, ``case_note`` each note written
(its dedup key, its id there); a ``case_note`` delivery is for an event alone (no staff member,
channel or reminder), so ``delivery``'s recipient check admits it (SQLite: the table is rebuilt,
its attempts set aside meanwhile, as in 0014). ``api_token`` keeps the digests of the programs'
tokens for the read-only JSON API.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime
from storage.secrets import SealedString

OLD_CHECK = (
    "(reminder_id IS NULL AND event_id IS NOT NULL AND staff_id IS NOT NULL"
    " AND channel_id IS NOT NULL) OR (reminder_id IS NOT NULL AND event_id IS NULL"
    " AND staff_id IS NULL AND channel_id IS NULL)"
)
CHECK = OLD_CHECK + (
    " OR (kind = 'case_note' AND reminder_id IS NULL AND event_id IS NOT NULL"
    " AND staff_id IS NULL AND channel_id IS NULL)"
)

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


@contextmanager
def _attempts_aside(sqlite: bool) -> Iterator[None]:
    """On SQLite, the delivery attempts wait in a plain table while ``delivery`` is rebuilt."""
    if not sqlite:
        yield
        return
    op.execute("CREATE TABLE _attempts_aside AS SELECT * FROM delivery_attempt")
    op.execute("DELETE FROM delivery_attempt")
    yield
    op.execute("INSERT INTO delivery_attempt SELECT * FROM _attempts_aside")
    op.execute("DROP TABLE _attempts_aside")


def _recipient_check(check: str) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with (
        _attempts_aside(sqlite),
        op.batch_alter_table("delivery", recreate="always" if sqlite else "never") as batch,
    ):
        batch.drop_constraint("ck_delivery_recipient", type_="check")
        batch.create_check_constraint("ck_delivery_recipient", check)


def upgrade() -> None:
    with op.batch_alter_table("client") as batch:
        batch.add_column(sa.Column("case_uuid", sa.String(36), nullable=True))
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
    op.create_table(
        "case_system",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "organization_id", sa.Integer(), sa.ForeignKey("organization.id"), nullable=False
        ),
        sa.Column("site", sa.String(300), nullable=False),
        sa.Column("token", SealedString(), nullable=False),
        sa.Column("note_type", sa.String(80), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("organization_id", name="uq_case_system_organization_id"),
    )
    _recipient_check(CHECK)
    op.create_table(
        "case_note",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("delivery_id", sa.Integer(), sa.ForeignKey("delivery.id"), nullable=False),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("event.id"), nullable=False),
        sa.Column("client_id", sa.Integer(), sa.ForeignKey("client.id"), nullable=False),
        sa.Column("dedup_key", sa.String(80), nullable=False),
        sa.Column("note_uuid", sa.String(64), nullable=False),
        sa.Column("written_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("delivery_id", name="uq_case_note_delivery_id"),
        sa.UniqueConstraint("dedup_key", name="uq_case_note_dedup_key"),
    )
    op.create_index("ix_case_note_event_id", "case_note", ["event_id"])
    op.create_index("ix_case_note_client_id", "case_note", ["client_id"])
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "organization_id", sa.Integer(), sa.ForeignKey("organization.id"), nullable=False
        ),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("last_used_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("digest", name="uq_api_token_digest"),
    )
    op.create_index("ix_api_token_organization_id", "api_token", ["organization_id"])


def downgrade() -> None:
    op.drop_index("ix_api_token_organization_id", "api_token")
    op.drop_table("api_token")
    op.drop_index("ix_case_note_client_id", "case_note")
    op.drop_index("ix_case_note_event_id", "case_note")
    op.drop_table("case_note")
    op.execute(
        "DELETE FROM delivery_attempt WHERE delivery_id IN "
        "(SELECT id FROM delivery WHERE kind = 'case_note')"
    )
    op.execute("DELETE FROM delivery WHERE kind = 'case_note'")
    _recipient_check(OLD_CHECK)
    op.drop_table("case_system")
    op.drop_index("ix_roster_sync_run_organization_id", "roster_sync_run")
    op.drop_table("roster_sync_run")
    op.drop_table("roster_sync")
    with op.batch_alter_table("client") as batch:
        batch.drop_column("roster_missed")
        batch.drop_column("roster_source")
        batch.drop_column("case_uuid")

"""organizations: one deployment serves several programs

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 21:00:00

``organization`` is new, with one program made for the data already here (slug ``default``;
``docketwatch orgs rename`` names it). Clients and staff belong to a program
(``organization_id``), and so do events and audit rows where they are about a program's data
(events about a court or a source are public: every program's). An A-number
is unique within a program, not in the deployment: two programs may watch the same person.

On SQLite, ``client`` and ``staff`` are rebuilt, though other tables refer to them: the
migrations run with foreign keys off and check every reference before they commit (env.py).
"""

from datetime import UTC, datetime
from typing import Literal

import sqlalchemy as sa
from alembic import op

from storage.models import UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    organization = op.create_table(
        "organization",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("slug", sa.String(length=40), nullable=False, unique=True),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.bulk_insert(
        organization,
        [{"id": 1, "slug": "default", "name": "Our program", "created_at": datetime.now(UTC)}],
    )
    if bind.dialect.name == "postgresql":
        op.execute("SELECT setval('organization_id_seq', 1)")
    recreate: Literal["always", "auto"] = "always" if sqlite else "auto"
    for table in ("client", "staff"):
        with op.batch_alter_table(table, recreate=recreate, naming_convention=NAMING) as batch:
            batch.add_column(
                sa.Column("organization_id", sa.Integer(), nullable=False, server_default="1")
            )
            batch.create_foreign_key(
                f"fk_{table}_organization_id", "organization", ["organization_id"], ["id"]
            )
            batch.create_index(f"ix_{table}_organization_id", ["organization_id"])
            if table == "client":
                batch.drop_constraint(
                    "uq_client_a_number" if sqlite else "client_a_number_key", type_="unique"
                )
                batch.create_unique_constraint(
                    "uq_client_organization_a_number", ["organization_id", "a_number"]
                )
                batch.create_index("ix_client_a_number", ["a_number"])
        with op.batch_alter_table(table, recreate=recreate) as batch:
            batch.alter_column("organization_id", existing_type=sa.Integer(), server_default=None)
    with op.batch_alter_table("audit_entry", recreate=recreate) as batch:
        batch.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_audit_entry_organization_id", "organization", ["organization_id"], ["id"]
        )
        batch.create_index("ix_audit_entry_organization_id", ["organization_id"])
    op.execute(
        "UPDATE audit_entry SET organization_id = 1 WHERE staff_id IS NOT NULL "
        "OR client_id IS NOT NULL"
    )
    with op.batch_alter_table("event", recreate=recreate) as batch:
        batch.add_column(sa.Column("organization_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_event_organization_id", "organization", ["organization_id"], ["id"]
        )
        batch.create_index("ix_event_organization_id", ["organization_id"])
    # the program's own events; those about a court or a source are public
    op.execute("UPDATE event SET organization_id = 1 WHERE subject_type NOT IN ('court', 'source')")
    # the monthly report is each program's: its key names the program (written once a month)
    op.execute(
        sa.text(
            "UPDATE event SET dedup_key = dedup_key || :first WHERE kind = 'monthly_report'"
        ).bindparams(first=":1")
    )


def downgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    recreate: Literal["always", "auto"] = "always" if sqlite else "auto"
    op.execute(
        sa.text(
            "UPDATE event SET dedup_key = substr(dedup_key, 1, length(dedup_key) - 2) "
            "WHERE kind = 'monthly_report' AND dedup_key LIKE :first"
        ).bindparams(first="%:1")
    )
    for table in ("event", "audit_entry"):
        with op.batch_alter_table(table, recreate=recreate) as batch:
            batch.drop_index(f"ix_{table}_organization_id")
            batch.drop_constraint(f"fk_{table}_organization_id", type_="foreignkey")
            batch.drop_column("organization_id")
    for table in ("client", "staff"):
        with op.batch_alter_table(table, recreate=recreate) as batch:
            if table == "client":
                batch.drop_index("ix_client_a_number")
                batch.drop_constraint("uq_client_organization_a_number", type_="unique")
                batch.create_unique_constraint(
                    "uq_client_a_number" if sqlite else "client_a_number_key", ["a_number"]
                )
            batch.drop_index(f"ix_{table}_organization_id")
            batch.drop_constraint(f"fk_{table}_organization_id", type_="foreignkey")
            batch.drop_column("organization_id")
    op.drop_table("organization")

"""OIDC accounts linked by their stable subject; failed sign-ins shared by the web workers

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 06:10:00

``staff.oidc_subject``: the sign-in provider's issuer and stable subject (Entra's ``oid``, else
``sub``), linked at a staff member's first sign-in with a verified email; later sign-ins match
it, so a changed email at the provider neither locks them out nor lets another account in.
``sign_in_failure``: the throttle's failed sign-ins, in the database so that every web worker
process weighs the same ones.
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("oidc_subject", sa.String(length=400), nullable=True))
        batch.create_unique_constraint("uq_staff_oidc_subject", ["oidc_subject"])
    op.create_table(
        "sign_in_failure",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
    )
    op.create_index("ix_sign_in_failure_key", "sign_in_failure", ["key"])
    op.create_index("ix_sign_in_failure_at", "sign_in_failure", ["at"])


def downgrade() -> None:
    op.drop_table("sign_in_failure")
    with op.batch_alter_table("staff") as batch:
        batch.drop_constraint("uq_staff_oidc_subject", type_="unique")
        batch.drop_column("oidc_subject")

"""sealed channel URLs: staff channels' Apprise URLs encrypted at rest, with a keyed digest

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 18:00:00

A channel's URL carries its secrets (a mail password, a bot or webhook token). It is now stored
sealed with the secrets key, a file outside the database (see ``storage/secrets.py``); the
uniqueness of a staff member's channels moves to a keyed digest of the URL. The key is created
here when channels exist and no key does. The downgrade opens every URL again.
"""

import sqlalchemy as sa
from alembic import op

from storage.secrets import SEALED, keyring_of

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_channels = sa.table(
    "staff_channel",
    sa.column("id", sa.Integer),
    sa.column("url", sa.Text),
    sa.column("url_digest", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("staff_channel") as batch:
        batch.drop_constraint("uq_staff_channel_url", type_="unique")
        batch.alter_column(
            "url", type_=sa.Text(), existing_type=sa.String(length=1000), existing_nullable=False
        )
        batch.add_column(sa.Column("url_digest", sa.String(length=64), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.select(_channels.c.id, _channels.c.url)).all()
    if rows:
        keyring = keyring_of(bind.dialect)
        keyring.create()  # none is made over an existing one
        for row_id, url in rows:
            if url.startswith(SEALED):  # sealed by an interrupted earlier run of this step
                url = keyring.open(url)
            bind.execute(
                _channels.update()
                .where(_channels.c.id == row_id)
                .values(url=keyring.seal(url), url_digest=keyring.digest(url))
            )
    with op.batch_alter_table("staff_channel") as batch:
        batch.alter_column("url_digest", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint("uq_staff_channel_url", ["staff_id", "url_digest"])


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_channels.c.id, _channels.c.url)).all()
    if rows:
        keyring = keyring_of(bind.dialect)
        for row_id, url in rows:
            bind.execute(
                _channels.update().where(_channels.c.id == row_id).values(url=keyring.open(url))
            )
    with op.batch_alter_table("staff_channel") as batch:
        batch.drop_constraint("uq_staff_channel_url", type_="unique")
        batch.drop_column("url_digest")
        batch.alter_column(
            "url", type_=sa.String(length=1000), existing_type=sa.Text(), existing_nullable=False
        )
        batch.create_unique_constraint("uq_staff_channel_url", ["staff_id", "url"])

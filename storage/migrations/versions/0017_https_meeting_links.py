"""meeting links: only https: links stay

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 04:15:00

A hearing's WebEx link comes from ACIS (``IJ_WebExURLLink``), a public source: from now on only
an ``https:`` link to a host is kept (``storage/urls.py``). Links stored before that are not
(``javascript:``, ``data:``, ``http:``) are emptied here; the pages, calendar feeds and alerts
also check every link when they show it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    hearing = sa.table("hearing", sa.column("id", sa.Integer), sa.column("webex", sa.String))
    bind = op.get_bind()
    from storage.urls import https_only

    rows = bind.execute(sa.select(hearing.c.id, hearing.c.webex).where(hearing.c.webex != ""))
    for row_id, link in list(rows):
        if https_only(link) != link:
            bind.execute(sa.update(hearing).where(hearing.c.id == row_id).values(webex=""))


def downgrade() -> None:
    pass  # a dropped link is not restored

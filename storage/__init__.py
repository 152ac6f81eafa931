"""Storage: SQLModel tables, engine and sessions, Alembic migrations, reference data, queries.

Everything that writes table models lives here; spiders and the monitor hand over validated,
non-table models and receive plain values back.
"""

"""Persistence: SQLModel tables, the database handle and alembic migrations."""

"""Alembic migrations for the doorstep schema."""

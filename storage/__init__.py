"""SQLModel tables, engine and session setup, repositories and migrations."""

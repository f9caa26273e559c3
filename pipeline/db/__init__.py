"""Review storage: SQLAlchemy 2 models, numbered Alembic migrations, and the ReviewStore API."""

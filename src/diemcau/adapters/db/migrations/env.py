"""Alembic environment: runs migrations on the connection handed over by ``ensure_schema``."""

from alembic import context
from sqlalchemy import create_engine

from diemcau.adapters.db.schema import Base

config = context.config
connection = config.attributes.get("connection")

if connection is None:
    connectable = create_engine(config.get_main_option("sqlalchemy.url"))
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()

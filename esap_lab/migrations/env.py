"""Alembic environment: the engine comes from ``Database.migrate`` (config attribute)."""

from alembic import context

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        render_as_batch=engine.dialect.name == "sqlite",  # SQLite alters tables by copy
        version_table="esap_lab_alembic_version",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()

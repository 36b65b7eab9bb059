"""Runs the alerts database's migrations on the connection its owner (alerts/database.py) hands over,
inside the owner's transaction: several processes may open a file at once, and one migrates."""

from alembic import context

context.configure(connection=context.config.attributes["connection"], transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()

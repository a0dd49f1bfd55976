"""staging: the common lifecycle fields of long operations (started, service)

Revision ID: staging_0002
Revises: staging_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "staging_0002"
down_revision = "staging_0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("esap_transfers") as t:
        t.add_column(sa.Column("started", sa.DateTime(timezone=True)))
        t.add_column(sa.Column("service", sa.String(256)))


def downgrade():
    with op.batch_alter_table("esap_transfers") as t:
        t.drop_column("service")
        t.drop_column("started")

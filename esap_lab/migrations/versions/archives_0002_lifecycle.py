"""archives: the common lifecycle fields of long operations (started, finished)

Revision ID: archives_0002
Revises: archives_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "archives_0002"
down_revision = "archives_0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("esap_queries") as t:
        t.add_column(sa.Column("started", sa.DateTime(timezone=True)))
        t.add_column(sa.Column("finished", sa.DateTime(timezone=True)))


def downgrade():
    with op.batch_alter_table("esap_queries") as t:
        t.drop_column("finished")
        t.drop_column("started")

"""archives: the UWS phase of a query's remote async job

Revision ID: archives_0003
Revises: archives_0002
"""
import sqlalchemy as sa
from alembic import op

revision = "archives_0003"
down_revision = "archives_0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("esap_queries") as t:
        t.add_column(sa.Column("phase", sa.String(16)))


def downgrade():
    with op.batch_alter_table("esap_queries") as t:
        t.drop_column("phase")

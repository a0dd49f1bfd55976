"""jobs: the common lifecycle fields of long operations (reason, service)

Revision ID: jobs_0002
Revises: jobs_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "jobs_0002"
down_revision = "jobs_0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("esap_jobs") as t:
        t.add_column(sa.Column("reason", sa.String(64)))
        t.add_column(sa.Column("service", sa.String(256)))


def downgrade():
    with op.batch_alter_table("esap_jobs") as t:
        t.drop_column("service")
        t.drop_column("reason")

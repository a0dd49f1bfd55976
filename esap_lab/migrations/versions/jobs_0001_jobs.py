"""jobs: the batch jobs table

Revision ID: jobs_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "jobs_0001"
down_revision = None
branch_labels = ("jobs",)
depends_on = None


def upgrade():
    op.create_table(
        "esap_jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("notebook", sa.Text, nullable=False),
        sa.Column("backend", sa.String(64), nullable=False, index=True),
        sa.Column("backend_type", sa.String(32), nullable=False),
        sa.Column("native_id", sa.String(128)),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("native_state", sa.String(200)),
        sa.Column("message", sa.Text),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("resources", sa.JSON, nullable=False),
        sa.Column("basket", sa.JSON),
        sa.Column("wait_for", sa.JSON, nullable=False),
        sa.Column("workdir", sa.Text, nullable=False),
        sa.Column("output", sa.Text),
        sa.Column("provenance", sa.JSON),
        sa.Column("events", sa.JSON, nullable=False),
        sa.Column("resubmitted_from", sa.String(32)),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted", sa.DateTime(timezone=True)),
        sa.Column("started", sa.DateTime(timezone=True)),
        sa.Column("finished", sa.DateTime(timezone=True)),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade():
    op.drop_table("esap_jobs")

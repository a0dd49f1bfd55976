"""archives: the queries table

Revision ID: archives_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "archives_0001"
down_revision = None
branch_labels = ("archives",)
depends_on = None


def upgrade():
    op.create_table(
        "esap_queries",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("archive", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("row_count", sa.Integer),
        sa.Column("overflow", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("columns", sa.JSON),
        sa.Column("access_url_column", sa.String(256)),
        sa.Column("message", sa.Text),
        sa.Column("reason", sa.String(64)),
        sa.Column("error_status", sa.Integer),
        sa.Column("error_service", sa.String(256)),
        sa.Column("remote_url", sa.Text),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade():
    op.drop_table("esap_queries")

"""staging: the transfers table

Revision ID: staging_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "staging_0001"
down_revision = None
branch_labels = ("staging",)
depends_on = None


def upgrade():
    op.create_table(
        "esap_transfers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(64), nullable=False, index=True),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("instance", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("destination", sa.Text),
        sa.Column("files", sa.JSON, nullable=False),
        sa.Column("rule", sa.JSON),
        sa.Column("bytes_total", sa.BigInteger),
        sa.Column("bytes_done", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("files_total", sa.Integer, nullable=False, server_default="0"),
        sa.Column("files_done", sa.Integer, nullable=False, server_default="0"),
        sa.Column("message", sa.Text),
        sa.Column("reason", sa.String(64)),
        sa.Column("error_status", sa.Integer),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished", sa.DateTime(timezone=True)),
    )


def downgrade():
    op.drop_table("esap_transfers")

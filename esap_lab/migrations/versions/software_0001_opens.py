"""software: "open here" as a long operation (download, verify, unpack a record's files)

Revision ID: software_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "software_0001"
down_revision = None
branch_labels = ("software",)
depends_on = None


def upgrade():
    op.create_table(
        "esap_software_opens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("record_id", sa.String(128), nullable=False, index=True),
        sa.Column("ossr", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("files", sa.JSON),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("bytes_done", sa.BigInteger, nullable=False),
        sa.Column("bytes_total", sa.BigInteger),
        sa.Column("result", sa.JSON),
        sa.Column("message", sa.Text),
        sa.Column("reason", sa.String(64)),
        sa.Column("error_status", sa.Integer),
        sa.Column("service", sa.String(256)),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started", sa.DateTime(timezone=True)),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished", sa.DateTime(timezone=True)),
    )


def downgrade():
    op.drop_table("esap_software_opens")

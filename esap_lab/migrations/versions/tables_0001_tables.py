"""tables: the user's managed tables and SQL / crossmatch results

Revision ID: tables_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "tables_0001"
down_revision = None
branch_labels = ("tables",)
depends_on = None


def upgrade():
    op.create_table(
        "esap_tables",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("lname", sa.String(64), nullable=False, unique=True),
        sa.Column("project", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False, index=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("row_count", sa.BigInteger, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("overflow", sa.Boolean, nullable=False),
        sa.Column("columns", sa.JSON, nullable=False),
        sa.Column("provenance", sa.JSON, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade():
    op.drop_table("esap_tables")

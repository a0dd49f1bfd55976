"""basket: items and the basket's revision

Revision ID: basket_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "basket_0001"
down_revision = None
branch_labels = ("basket",)
depends_on = None


def upgrade():
    op.create_table(
        "esap_basket_items",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False, index=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("source", sa.String(256), nullable=False),
        sa.Column("added", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("doc", sa.Text, nullable=False),
    )
    state = op.create_table(
        "esap_basket_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("revision", sa.BigInteger, nullable=False),
    )
    op.bulk_insert(state, [{"id": 1, "revision": 0}])


def downgrade():
    op.drop_table("esap_basket_state")
    op.drop_table("esap_basket_items")

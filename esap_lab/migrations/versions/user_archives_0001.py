"""user archives: the archives a user added (e.g. from the registry)

Revision ID: user_archives_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "user_archives_0001"
down_revision = None
branch_labels = ("user_archives",)
depends_on = None


def upgrade():
    op.create_table(
        "esap_user_archives",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("ivoid", sa.String(500)),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade():
    op.drop_table("esap_user_archives")

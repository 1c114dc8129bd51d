"""namespace storage quotas set by admins

Revision ID: 0003_i11b
Revises: 0003_i13
"""
from alembic import op
import sqlalchemy as sa

revision = '0003_i11b'
down_revision = '0003_i11c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'namespace_quotas',
        sa.Column('namespace', sa.String(100), nullable=False),
        sa.Column('max_bytes', sa.BigInteger(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('namespace'),
    )


def downgrade() -> None:
    op.drop_table('namespace_quotas')

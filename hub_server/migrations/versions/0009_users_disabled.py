"""users.disabled_at: an operator can disable an account (its tokens and web sessions stop working)

Revision ID: 0009_users_disabled
Revises: 0008_terms_name
"""
from alembic import op
import sqlalchemy as sa

revision = '0009_users_disabled'
down_revision = '0008_terms_name'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('disabled_at')

"""users.fullname and orgs.fullname (display names, HF's ``whoami`` ``fullname``) and
orgs.private_by_default (new repos of the org are private unless the creator says otherwise)

Revision ID: 0014_account_display
Revises: 0013_version_capabilities
"""
from alembic import op
import sqlalchemy as sa

revision = '0014_account_display'
down_revision = '0013_version_capabilities'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('users', sa.Column('fullname', sa.String(100), nullable=True))
    op.add_column('orgs', sa.Column('fullname', sa.String(100), nullable=True))
    op.add_column('orgs', sa.Column('private_by_default', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('orgs', schema=None) as batch_op:
        batch_op.drop_column('private_by_default')
        batch_op.drop_column('fullname')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('fullname')

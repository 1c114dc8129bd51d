"""versions.capabilities_json: what an adapter can do (mergeable, loadable by PEFT, its task), indexed at
publish so a repo page never reads adapter_config.json; rows published earlier keep NULL (read on view)

Revision ID: 0013_version_capabilities
Revises: 0012_evaluations
"""
from alembic import op
import sqlalchemy as sa

revision = '0013_version_capabilities'
down_revision = '0012_evaluations'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('versions', sa.Column('capabilities_json', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.drop_column('capabilities_json')

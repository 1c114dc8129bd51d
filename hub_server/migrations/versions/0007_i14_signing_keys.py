"""signing keys per user; who signed each version and with which key

Revision ID: 0003_i14
Revises: 0003_i12
"""
from alembic import op
import sqlalchemy as sa

revision = '0003_i14'
down_revision = '0003_i12'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'signing_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('fingerprint', sa.String(length=71), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('public_pem', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('fingerprint'),
    )
    op.create_index('ix_signing_keys_user_id', 'signing_keys', ['user_id'])
    op.add_column('versions', sa.Column('signed_by', sa.String(length=100), nullable=True))
    op.add_column('versions', sa.Column('signing_key', sa.String(length=71), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('versions') as batch:
        batch.drop_column('signing_key')
        batch.drop_column('signed_by')
    op.drop_index('ix_signing_keys_user_id', table_name='signing_keys')
    op.drop_table('signing_keys')

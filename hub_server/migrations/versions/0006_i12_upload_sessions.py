"""upload sessions in the database (their bytes live in the blob store), so any host continues any upload

Revision ID: 0003_i12
Revises: 0003_i13
"""
from alembic import op
import sqlalchemy as sa

revision = '0003_i12'
down_revision = '0003_i11b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'upload_sessions',
        sa.Column('id', sa.String(32), nullable=False),
        sa.Column('user_name', sa.String(100), nullable=False),
        sa.Column('received', sa.BigInteger(), nullable=False),
        sa.Column('parts', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_upload_sessions_updated_at', 'upload_sessions', ['updated_at'])


def downgrade() -> None:
    op.drop_index('ix_upload_sessions_updated_at', table_name='upload_sessions')
    op.drop_table('upload_sessions')

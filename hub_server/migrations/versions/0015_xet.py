"""Xet uploads: the xorbs each user sent (xet_xorbs), where their chunks live in rebuilt files
(xet_ranges) and the short-lived Xet access tokens (xet_tokens)

Revision ID: 0015_xet
Revises: 0014_account_display
"""
from alembic import op
import sqlalchemy as sa

revision = '0015_xet'
down_revision = '0014_account_display'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'xet_xorbs',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('hash', sa.String(64), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('chunk_ends', sa.LargeBinary(), nullable=False),
        sa.Column('data_digest', sa.String(71), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'hash'),
    )
    op.create_index('ix_xet_xorbs_data_digest', 'xet_xorbs', ['data_digest'])
    op.create_index('ix_xet_xorbs_created_at', 'xet_xorbs', ['created_at'])
    op.create_table(
        'xet_ranges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('xorb', sa.String(64), nullable=False),
        sa.Column('chunk_start', sa.Integer(), nullable=False),
        sa.Column('chunk_end', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(71), nullable=False),
        sa.Column('file_offset', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['digest'], ['blobs.digest'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_xet_ranges_user_xorb', 'xet_ranges', ['user_id', 'xorb'])
    op.create_index('ix_xet_ranges_digest', 'xet_ranges', ['digest'])
    op.create_table(
        'xet_tokens',
        sa.Column('token_hash', sa.String(64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('repo_id', sa.Integer(), nullable=False),
        sa.Column('token_id', sa.Integer(), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['repo_id'], ['repos.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['token_id'], ['tokens.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    op.create_index('ix_xet_tokens_user_id', 'xet_tokens', ['user_id'])
    op.create_index('ix_xet_tokens_repo_id', 'xet_tokens', ['repo_id'])
    op.create_index('ix_xet_tokens_expires_at', 'xet_tokens', ['expires_at'])


def downgrade() -> None:
    op.drop_table('xet_tokens')
    op.drop_table('xet_ranges')
    op.drop_table('xet_xorbs')

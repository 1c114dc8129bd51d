"""repo_redirects: the former names of moved repos (move_repo)

Revision ID: 0011_repo_redirects
Revises: 0010_refs_discussions
"""
from alembic import op
import sqlalchemy as sa

revision = '0011_repo_redirects'
down_revision = '0010_refs_discussions'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'repo_redirects',
        sa.Column('full_name', sa.String(201), primary_key=True),
        sa.Column('repo_id', sa.Integer(), sa.ForeignKey('repos.id', ondelete='CASCADE'), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_repo_redirects_repo_id', 'repo_redirects', ['repo_id'])


def downgrade() -> None:
    op.drop_table('repo_redirects')

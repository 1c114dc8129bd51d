"""search terms carry their repo's full name, indexed (term, full_name, repo_id): a word's repos in
name order are one index range

Revision ID: 0008_terms_name
Revises: 0003_i14
"""
from alembic import op
import sqlalchemy as sa

revision = '0008_terms_name'
down_revision = '0003_i14'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('repo_terms', sa.Column('full_name', sa.String(length=201), nullable=True))
    op.execute('UPDATE repo_terms SET full_name = '
               '(SELECT repos.full_name FROM repos WHERE repos.id = repo_terms.repo_id)')
    with op.batch_alter_table('repo_terms', schema=None) as batch_op:
        batch_op.alter_column('full_name', existing_type=sa.String(length=201), nullable=False)
        batch_op.create_index('ix_repo_terms_term_name', ['term', 'full_name', 'repo_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('repo_terms', schema=None) as batch_op:
        batch_op.drop_index('ix_repo_terms_term_name')
        batch_op.drop_column('full_name')

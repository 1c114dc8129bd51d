"""free-text search terms: one row per (term, repo), filled from every repo's search text

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

from hub_server.services.search_terms import terms_of

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'repo_terms',
        sa.Column('term', sa.String(100).with_variant(sa.String(100, collation='C'), 'postgresql'), nullable=False),
        sa.Column('repo_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['repo_id'], ['repos.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('term', 'repo_id'),
    )
    op.create_index('ix_repo_terms_repo_id', 'repo_terms', ['repo_id'])
    conn = op.get_bind()
    terms = sa.table('repo_terms', sa.column('term'), sa.column('repo_id'))
    rows = conn.execute(sa.text('SELECT id, search_text FROM repos')).fetchall()
    batch = []
    for repo_id, text in rows:
        batch.extend({'term': t, 'repo_id': repo_id} for t in terms_of(text or ''))
        if len(batch) >= 5000:
            conn.execute(terms.insert(), batch)
            batch = []
    if batch:
        conn.execute(terms.insert(), batch)


def downgrade() -> None:
    op.drop_index('ix_repo_terms_repo_id', table_name='repo_terms')
    op.drop_table('repo_terms')

"""web accounts and likes: users.password_hash, web_sessions, likes and repos.likes (sorted by)

Revision ID: 0003_i13
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003_i13'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('password_hash', sa.String(200), nullable=True))
    with op.batch_alter_table('repos') as batch:
        batch.add_column(sa.Column('likes', sa.BigInteger(), nullable=False, server_default='0'))
    op.create_index('ix_repos_likes', 'repos', ['likes', 'id'])
    op.create_table(
        'web_sessions',
        sa.Column('id_hash', sa.String(64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('csrf', sa.String(64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('user_agent', sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id_hash'),
    )
    op.create_index('ix_web_sessions_user_id', 'web_sessions', ['user_id'])
    op.create_table(
        'likes',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('repo_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['repo_id'], ['repos.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'repo_id'),
    )
    op.create_index('ix_likes_repo_id', 'likes', ['repo_id'])


def downgrade() -> None:
    op.drop_index('ix_likes_repo_id', table_name='likes')
    op.drop_table('likes')
    op.drop_index('ix_web_sessions_user_id', table_name='web_sessions')
    op.drop_table('web_sessions')
    op.drop_index('ix_repos_likes', table_name='repos')
    with op.batch_alter_table('repos') as batch:
        batch.drop_column('likes')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('password_hash')

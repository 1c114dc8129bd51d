"""branches, tags and pull-request refs (repo_refs, ref_commits, ref_commit_files); discussions and their
events; collections and their items; gated repos and access requests

Revision ID: 0010_refs_discussions
Revises: 0009_users_disabled
"""
from alembic import op
import sqlalchemy as sa

revision = '0010_refs_discussions'
down_revision = '0009_users_disabled'
branch_labels = None
depends_on = None


def _when(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        'ref_commits',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('repo_id', sa.Integer(), sa.ForeignKey('repos.id', ondelete='CASCADE'), nullable=False),
        sa.Column('commit', sa.String(40), nullable=False),
        sa.Column('parent_commit', sa.String(40), nullable=True),
        _when('created_at'),
        sa.Column('author', sa.String(100), nullable=True),
        sa.Column('message', sa.Text(), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('card_json', sa.Text(), nullable=False),
        sa.UniqueConstraint('repo_id', 'commit', name='uq_ref_commit'),
    )
    op.create_index('ix_ref_commits_repo_id', 'ref_commits', ['repo_id'])
    op.create_table(
        'ref_commit_files',
        sa.Column('ref_commit_id', sa.Integer(), sa.ForeignKey('ref_commits.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('path', sa.String(1000), primary_key=True),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('digest', sa.String(71), nullable=False),
    )
    op.create_index('ix_ref_commit_files_digest', 'ref_commit_files', ['digest'])
    op.create_table(
        'repo_refs',
        sa.Column('repo_id', sa.Integer(), sa.ForeignKey('repos.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('kind', sa.String(8), primary_key=True),
        sa.Column('name', sa.String(200), primary_key=True),
        sa.Column('commit', sa.String(40), nullable=False),
        sa.Column('author', sa.String(100), nullable=True),
        _when('created_at'),
    )
    op.create_table(
        'discussions',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('repo_id', sa.Integer(), sa.ForeignKey('repos.id', ondelete='CASCADE'), nullable=False),
        sa.Column('num', sa.Integer(), nullable=False),
        sa.Column('author', sa.String(100), nullable=False),
        sa.Column('title', sa.String(200), nullable=False),
        sa.Column('is_pull_request', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('target_branch', sa.String(200), nullable=True),
        sa.Column('base_commit', sa.String(40), nullable=True),
        sa.Column('merge_commit', sa.String(40), nullable=True),
        sa.Column('merged_version', sa.String(100), nullable=True),
        _when('created_at'),
        _when('updated_at'),
        sa.UniqueConstraint('repo_id', 'num', name='uq_discussion_num'),
    )
    op.create_index('ix_discussions_repo_id', 'discussions', ['repo_id'])
    op.create_table(
        'discussion_events',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('discussion_id', sa.Integer(), sa.ForeignKey('discussions.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('event_id', sa.String(24), nullable=False, unique=True),
        sa.Column('kind', sa.String(20), nullable=False),
        sa.Column('author', sa.String(100), nullable=False),
        _when('created_at'),
        _when('updated_at'),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('data_json', sa.Text(), nullable=False),
        sa.Column('edited', sa.Boolean(), nullable=False),
        sa.Column('hidden', sa.Boolean(), nullable=False),
    )
    op.create_index('ix_discussion_events_discussion_id', 'discussion_events', ['discussion_id'])
    op.create_table(
        'collections',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('slug', sa.String(260), nullable=False, unique=True),
        sa.Column('namespace', sa.String(100), nullable=False),
        sa.Column('title', sa.String(200), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('private', sa.Boolean(), nullable=False),
        sa.Column('theme', sa.String(20), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        _when('created_at'),
        _when('updated_at'),
    )
    op.create_index('ix_collections_namespace', 'collections', ['namespace'])
    op.create_table(
        'collection_items',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('collection_id', sa.Integer(), sa.ForeignKey('collections.id', ondelete='CASCADE'), nullable=False),
        sa.Column('object_id', sa.String(24), nullable=False, unique=True),
        sa.Column('item_type', sa.String(20), nullable=False),
        sa.Column('item_id', sa.String(260), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.UniqueConstraint('collection_id', 'item_type', 'item_id', name='uq_collection_item'),
    )
    op.create_index('ix_collection_items_collection_id', 'collection_items', ['collection_id'])
    op.create_table(
        'repo_gates',
        sa.Column('repo_id', sa.Integer(), sa.ForeignKey('repos.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('mode', sa.String(10), nullable=False),
        _when('updated_at'),
    )
    op.create_table(
        'access_requests',
        sa.Column('repo_id', sa.Integer(), sa.ForeignKey('repos.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('user_name', sa.String(100), primary_key=True),
        sa.Column('request_id', sa.String(24), nullable=False, unique=True),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        _when('created_at'),
        _when('updated_at'),
    )


def downgrade() -> None:
    for table in ('access_requests', 'repo_gates', 'collection_items', 'collections', 'discussion_events', 'discussions', 'repo_refs', 'ref_commit_files', 'ref_commits'):
        op.drop_table(table)

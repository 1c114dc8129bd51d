"""evaluations: one row per declared evaluation of a version (card model-index) and its verified result

Revision ID: 0012_evaluations
Revises: 0011_repo_redirects
"""
from alembic import op
import sqlalchemy as sa

revision = '0012_evaluations'
down_revision = '0011_repo_redirects'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'evaluations',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('job_id', sa.String(32), nullable=False, unique=True),
        sa.Column('repo_id', sa.Integer(), sa.ForeignKey('repos.id', ondelete='CASCADE'), nullable=False),
        sa.Column('version_id', sa.Integer(), sa.ForeignKey('versions.id', ondelete='CASCADE'), nullable=False),
        sa.Column('version', sa.String(100), nullable=False),
        sa.Column('base_fingerprint', sa.String(80), nullable=True),
        sa.Column('task', sa.String(50), nullable=False),
        sa.Column('dataset', sa.String(201), nullable=False),
        sa.Column('dataset_revision', sa.String(100), nullable=False),
        sa.Column('split', sa.String(64), nullable=False),
        sa.Column('metric', sa.String(32), nullable=False),
        sa.Column('reported', sa.Float(), nullable=True),
        sa.Column('value', sa.Float(), nullable=True),
        sa.Column('n', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(10), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('worker', sa.String(100), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('evaluator_json', sa.Text(), nullable=False),
        sa.UniqueConstraint('version_id', 'dataset', 'dataset_revision', 'split', 'metric', name='uq_evaluation'),
    )
    op.create_index('ix_evaluations_repo_id', 'evaluations', ['repo_id'])
    op.create_index('ix_evaluations_version_id', 'evaluations', ['version_id'])
    op.create_index('ix_evaluations_board', 'evaluations', ['base_fingerprint', 'dataset', 'metric', 'status'])


def downgrade() -> None:
    op.drop_table('evaluations')

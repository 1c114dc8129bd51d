"""eval_signing_keys: the one Ed25519 key that signs verified results (verifyToken), kept in the database so
every host of a deployment signs with the same key; evaluations.claimed_token_id: the token whose worker
holds a running job (it may read what the job names, see services/job_grants.py)

Revision ID: 0017_eval_signing_key
Revises: 0016_webhooks
"""
from alembic import op
import sqlalchemy as sa

revision = '0017_eval_signing_key'
down_revision = '0016_webhooks'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'eval_signing_keys',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column('private_pem', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column('evaluations', sa.Column('claimed_token_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.drop_column('claimed_token_id')
    op.drop_table('eval_signing_keys')

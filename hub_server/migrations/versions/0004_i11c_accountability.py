"""accountability: case-insensitive names, version tombstones, token expiry/revocation,
blob uploaders and last use (for gc), per-version download counts, append-only audit events

Revision ID: 0003_i11c
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003_i11c'
down_revision = '0003_i13'
branch_labels = None
depends_on = None

_APPEND_ONLY = "audit_events is append-only"


def upgrade() -> None:
    conn = op.get_bind()
    for table, column in (('users', 'name'), ('orgs', 'name'), ('repos', 'full_name')):
        clash = conn.execute(sa.text(
            f'SELECT lower({column}) FROM {table} GROUP BY lower({column}) HAVING count(*) > 1 LIMIT 1')).first()
        if clash is not None:
            raise RuntimeError(f'{table}: names differing only in case exist ({clash[0]!r}); rename one first')
    op.create_index('uq_users_name_ci', 'users', [sa.text('lower(name)')], unique=True)
    op.create_index('uq_orgs_name_ci', 'orgs', [sa.text('lower(name)')], unique=True)
    op.execute("UPDATE repos SET full_name = lower(namespace || '/' || name)")
    op.create_index('uq_repos_full_name_ci', 'repos', ['full_name'], unique=True)

    with op.batch_alter_table('tokens') as batch:
        batch.add_column(sa.Column('name', sa.String(100), nullable=False, server_default=''))
        batch.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('blobs') as batch:
        batch.add_column(sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True))
    op.execute('UPDATE blobs SET last_used_at = created_at')
    with op.batch_alter_table('blobs') as batch:
        batch.alter_column('last_used_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch.create_index('ix_blobs_last_used_at', ['last_used_at'])
    with op.batch_alter_table('versions') as batch:
        batch.add_column(sa.Column('downloads', sa.BigInteger(), nullable=False, server_default='0'))

    op.create_table(
        'blob_uploads',
        sa.Column('digest', sa.String(71), sa.ForeignKey('blobs.digest', ondelete='CASCADE'), primary_key=True),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='CASCADE'), primary_key=True),
    )
    op.create_index('ix_blob_uploads_user_id', 'blob_uploads', ['user_id'])
    op.create_table(
        'version_tombstones',
        sa.Column('full_name', sa.String(201), primary_key=True),
        sa.Column('version', sa.String(100), primary_key=True),
        sa.Column('commit', sa.String(40), nullable=False),
        sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        'audit_events',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor', sa.String(100), nullable=True),
        sa.Column('action', sa.String(40), nullable=False),
        sa.Column('target', sa.String(400), nullable=False),
        sa.Column('request_id', sa.String(64), nullable=True),
        sa.Column('detail_json', sa.Text(), nullable=False),
    )
    op.create_index('ix_audit_events_actor', 'audit_events', ['actor', 'id'])
    op.create_index('ix_audit_events_action', 'audit_events', ['action', 'id'])
    if conn.dialect.name == 'postgresql':
        op.execute(f"""CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION '{_APPEND_ONLY}'; END; $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
            FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""")
    else:
        for verb in ('UPDATE', 'DELETE'):
            op.execute(f"""CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events
                BEGIN SELECT RAISE(ABORT, '{_APPEND_ONLY}'); END""")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events')
        op.execute('DROP FUNCTION IF EXISTS audit_events_append_only()')
    op.drop_table('audit_events')
    op.drop_table('version_tombstones')
    op.drop_index('ix_blob_uploads_user_id', table_name='blob_uploads')
    op.drop_table('blob_uploads')
    with op.batch_alter_table('versions') as batch:
        batch.drop_column('downloads')
    with op.batch_alter_table('blobs') as batch:
        batch.drop_index('ix_blobs_last_used_at')
        batch.drop_column('last_used_at')
    with op.batch_alter_table('tokens') as batch:
        batch.drop_column('revoked_at')
        batch.drop_column('expires_at')
        batch.drop_column('name')
    op.drop_index('uq_repos_full_name_ci', table_name='repos')
    op.drop_index('uq_orgs_name_ci', table_name='orgs')
    op.drop_index('uq_users_name_ci', table_name='users')

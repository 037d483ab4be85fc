"""Public notices (公示): notices of a community, their items, residents' objections.

Revision ID: 0007_public_notice
Revises: 0006_login_lockout
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_public_notice'
down_revision = '0006_login_lockout'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('public_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=60), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('DRAFT', 'PUBLISHED', 'WITHDRAWN', name='noticestatus', native_enum=False, length=32), nullable=False),
    sa.Column('publish_at', sa.DateTime(), nullable=True),
    sa.Column('publish_until', sa.DateTime(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.Column('withdraw_reason', sa.String(length=300), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_public_notice_period')),
    sa.CheckConstraint('publish_at IS NULL OR publish_until IS NULL OR publish_until > publish_at', name=op.f('ck_public_notice_window')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_public_notice_community_id_community')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_public_notice_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['user_account.id'], name=op.f('fk_public_notice_withdrawn_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_public_notice'))
    )
    with op.batch_alter_table('public_notice', schema=None) as batch_op:
        batch_op.create_index('ix_public_notice_live', ['community_id', 'status', 'publish_at'], unique=False)

    op.create_table('notice_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('ref', sa.String(length=60), nullable=False),
    sa.Column('kind', sa.Enum('ASSISTED', 'EXITED', 'SERVICES', name='noticeitemkind', native_enum=False, length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('service_type_code', sa.String(length=32), nullable=True),
    sa.Column('masked_name', sa.String(length=60), nullable=False),
    sa.Column('categories', sa.String(length=300), nullable=False),
    sa.Column('services', sa.String(length=300), nullable=False),
    sa.Column('on', sa.Date(), nullable=True),
    sa.Column('visits', sa.Integer(), nullable=True),
    sa.Column('households', sa.Integer(), nullable=True),
    sa.Column('wording', sa.String(length=60), nullable=True),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_notice_item_household_id_household'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['notice_id'], ['public_notice.id'], name=op.f('fk_notice_item_notice_id_public_notice'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_type_code'], ['service_type.code'], name=op.f('fk_notice_item_service_type_code_service_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_item')),
    sa.UniqueConstraint('notice_id', 'ref', name=op.f('uq_notice_item_notice_id_ref'))
    )
    with op.batch_alter_table('notice_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_item_notice_id'), ['notice_id'], unique=False)

    op.create_table('notice_objection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('contact', sa.String(length=50), nullable=False),
    sa.Column('status', sa.Enum('OPEN', 'HANDLED', name='objectionstatus', native_enum=False, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('handled_by_id', sa.Integer(), nullable=True),
    sa.Column('handled_at', sa.DateTime(), nullable=True),
    sa.Column('handling_note', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['handled_by_id'], ['user_account.id'], name=op.f('fk_notice_objection_handled_by_id_user_account')),
    sa.ForeignKeyConstraint(['item_id'], ['notice_item.id'], name=op.f('fk_notice_objection_item_id_notice_item'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['notice_id'], ['public_notice.id'], name=op.f('fk_notice_objection_notice_id_public_notice'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_objection'))
    )
    with op.batch_alter_table('notice_objection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_objection_notice_id'), ['notice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_objection_status'), ['status'], unique=False)



def downgrade():
    with op.batch_alter_table('notice_objection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_objection_status'))
        batch_op.drop_index(batch_op.f('ix_notice_objection_notice_id'))

    op.drop_table('notice_objection')
    with op.batch_alter_table('notice_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_item_notice_id'))

    op.drop_table('notice_item')
    with op.batch_alter_table('public_notice', schema=None) as batch_op:
        batch_op.drop_index('ix_public_notice_live')

    op.drop_table('public_notice')

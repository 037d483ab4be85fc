"""The supply list (供给清单): partner organisations' offers and the communities
they cover, the organisations' volunteers, staff's decisions matching offers
to needs, and the partner a task from such a match is reserved for.

Revision ID: 0008_supply
Revises: 0007_public_notice
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_supply'
down_revision = '0007_public_notice'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('partner_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('INVITED', 'ACTIVE', 'DECLINED', 'LEFT', name='memberstatus', native_enum=False, length=32), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=False),
    sa.Column('invited_at', sa.DateTime(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('left_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['invited_by_id'], ['user_account.id'], name=op.f('fk_partner_member_invited_by_id_user_account')),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_partner_member_partner_id_partner'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_partner_member_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner_member')),
    sa.UniqueConstraint('partner_id', 'user_id', name=op.f('uq_partner_member_partner_id_user_id'))
    )
    with op.batch_alter_table('partner_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_member_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partner_member_user_id'), ['user_id'], unique=False)

    op.create_table('supply_offer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('service_type_code', sa.String(length=32), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.Column('whole_street', sa.Boolean(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('ACTIVE', 'CLOSED', 'WITHDRAWN', name='offerstatus', native_enum=False, length=32), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('close_reason', sa.String(length=300), nullable=False),
    sa.CheckConstraint('capacity BETWEEN 1 AND 1000', name=op.f('ck_supply_offer_capacity')),
    sa.CheckConstraint('used >= 0 AND used <= capacity', name=op.f('ck_supply_offer_used')),
    sa.CheckConstraint('valid_until >= valid_from', name=op.f('ck_supply_offer_period')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user_account.id'], name=op.f('fk_supply_offer_closed_by_id_user_account')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_supply_offer_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_supply_offer_partner_id_partner')),
    sa.ForeignKeyConstraint(['service_type_code'], ['service_type.code'], name=op.f('fk_supply_offer_service_type_code_service_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_offer'))
    )
    with op.batch_alter_table('supply_offer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supply_offer_partner_id'), ['partner_id'], unique=False)
        batch_op.create_index('ix_supply_offer_status_service', ['status', 'service_type_code'], unique=False)

    op.create_table('offer_community',
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_offer_community_community_id_community')),
    sa.ForeignKeyConstraint(['offer_id'], ['supply_offer.id'], name=op.f('fk_offer_community_offer_id_supply_offer'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('offer_id', 'community_id', name=op.f('pk_offer_community'))
    )
    with op.batch_alter_table('offer_community', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offer_community_community_id'), ['community_id'], unique=False)

    op.create_table('supply_match',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('need_id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('ACCEPTED', 'DECLINED', name='matchstatus', native_enum=False, length=32), nullable=False),
    sa.Column('outcome', sa.Enum('TASK', 'MEASURE', name='matchoutcome', native_enum=False, length=32), nullable=True),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('measure_id', sa.Integer(), nullable=True),
    sa.Column('org_description', sa.String(length=300), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("(status = 'ACCEPTED' AND outcome IS NOT NULL) OR (status = 'DECLINED' AND outcome IS NULL)", name=op.f('ck_supply_match_outcome')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_supply_match_decided_by_id_user_account')),
    sa.ForeignKeyConstraint(['measure_id'], ['measure.id'], name=op.f('fk_supply_match_measure_id_measure'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['need_id'], ['need.id'], name=op.f('fk_supply_match_need_id_need'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['offer_id'], ['supply_offer.id'], name=op.f('fk_supply_match_offer_id_supply_offer')),
    sa.ForeignKeyConstraint(['task_id'], ['task.id'], name=op.f('fk_supply_match_task_id_task'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_match')),
    sa.UniqueConstraint('need_id', 'offer_id', name=op.f('uq_supply_match_need_id_offer_id'))
    )
    with op.batch_alter_table('supply_match', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supply_match_need_id'), ['need_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_match_offer_id'), ['offer_id'], unique=False)

    if op.get_bind().dialect.name == 'sqlite':
        # Plain ALTER TABLE: a batch copy of `task` would drop the table that
        # claims and events reference (and cascade-delete them).
        op.execute(
            'ALTER TABLE task ADD COLUMN partner_id INTEGER'
            ' CONSTRAINT fk_task_partner_id_partner REFERENCES partner (id)'
        )
    else:
        op.add_column('task', sa.Column('partner_id', sa.Integer(), nullable=True))
        op.create_foreign_key(op.f('fk_task_partner_id_partner'), 'task', 'partner', ['partner_id'], ['id'])
    op.create_index(op.f('ix_task_partner_id'), 'task', ['partner_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_task_partner_id'), table_name='task')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(op.f('fk_task_partner_id_partner'), 'task', type_='foreignkey')
    # Plain ALTER TABLE (SQLite 3.35+): a batch copy would trip the foreign keys to this table.
    op.execute('ALTER TABLE task DROP COLUMN partner_id')

    with op.batch_alter_table('supply_match', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supply_match_offer_id'))
        batch_op.drop_index(batch_op.f('ix_supply_match_need_id'))

    op.drop_table('supply_match')
    with op.batch_alter_table('offer_community', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_offer_community_community_id'))

    op.drop_table('offer_community')
    with op.batch_alter_table('supply_offer', schema=None) as batch_op:
        batch_op.drop_index('ix_supply_offer_status_service')
        batch_op.drop_index(batch_op.f('ix_supply_offer_partner_id'))

    op.drop_table('supply_offer')
    with op.batch_alter_table('partner_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_member_user_id'))
        batch_op.drop_index(batch_op.f('ix_partner_member_partner_id'))

    op.drop_table('partner_member')

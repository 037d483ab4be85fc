"""Points: the double-entry ledger, point rates and policy (moved out of service_type),
partners, rewards, stock movements, vouchers, teams. Ledger rows are made immutable
by triggers.

Revision ID: 0004_points
Revises: 0003_tasks
Create Date: 2026-11-23

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_points'
down_revision = '0003_tasks'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ledger_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('ISSUE', 'SINK', 'VOLUNTEER', 'HOUSEHOLD', 'POOL', 'PARTNER', name='accountkind', native_enum=False, length=32), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("balance >= 0 OR kind = 'ISSUE'", name=op.f('ck_ledger_account_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_account')),
    sa.UniqueConstraint('kind', 'owner_id', name=op.f('uq_ledger_account_kind_owner_id'))
    )
    op.create_table('partner',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.Enum('MERCHANT', 'CHARITY', 'SOCIAL_WORK', 'COMPANY', name='partnerkind', native_enum=False, length=32), nullable=False),
    sa.Column('street_id', sa.Integer(), nullable=False),
    sa.Column('contact_name', sa.String(length=50), nullable=False),
    sa.Column('contact_phone', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_partner_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['street_id'], ['street.id'], name=op.f('fk_partner_street_id_street')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partner')),
    sa.UniqueConstraint('street_id', 'name', name=op.f('uq_partner_street_id_name'))
    )
    with op.batch_alter_table('partner', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partner_street_id'), ['street_id'], unique=False)

    op.create_table('point_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('urgent_bonus', sa.Integer(), nullable=False),
    sa.Column('critical_bonus', sa.Integer(), nullable=False),
    sa.Column('daily_cap', sa.Integer(), nullable=False),
    sa.Column('rounding', sa.Enum('HALF_UP', 'DOWN', 'UP', name='rounding', native_enum=False, length=32), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('critical_bonus BETWEEN 0 AND 1000', name=op.f('ck_point_policy_critical_bonus')),
    sa.CheckConstraint('daily_cap BETWEEN 1 AND 100000', name=op.f('ck_point_policy_daily_cap')),
    sa.CheckConstraint('urgent_bonus BETWEEN 0 AND 1000', name=op.f('ck_point_policy_urgent_bonus')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_point_policy_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_policy'))
    )
    with op.batch_alter_table('point_policy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_point_policy_effective_from'), ['effective_from'], unique=False)

    op.create_table('point_rate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_type_code', sa.String(length=32), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('points_per_visit', sa.Integer(), nullable=False),
    sa.Column('points_per_hour', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('points_per_hour BETWEEN 0 AND 1000', name=op.f('ck_point_rate_per_hour')),
    sa.CheckConstraint('points_per_visit BETWEEN 0 AND 1000', name=op.f('ck_point_rate_per_visit')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_point_rate_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['service_type_code'], ['service_type.code'], name=op.f('fk_point_rate_service_type_code_service_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_point_rate'))
    )
    with op.batch_alter_table('point_rate', schema=None) as batch_op:
        batch_op.create_index('ix_point_rate_type_from', ['service_type_code', 'effective_from'], unique=False)

    op.create_table('team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('motto', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_team_community_id_community')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_team_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team')),
    sa.UniqueConstraint('community_id', 'name', name=op.f('uq_team_community_id_name'))
    )
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_community_id'), ['community_id'], unique=False)

    op.create_table('partner_user',
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_partner_user_partner_id_partner'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_partner_user_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('partner_id', 'user_id', name=op.f('pk_partner_user'))
    )
    op.create_table('reward',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('point_price', sa.Integer(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('point_price BETWEEN 1 AND 1000000', name=op.f('ck_reward_point_price')),
    sa.CheckConstraint('stock >= 0', name=op.f('ck_reward_stock')),
    sa.CheckConstraint('valid_until IS NULL OR valid_until >= valid_from', name=op.f('ck_reward_validity')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_reward_community_id_community')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_reward_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['partner_id'], ['partner.id'], name=op.f('fk_reward_partner_id_partner')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reward'))
    )
    with op.batch_alter_table('reward', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reward_community_id'), ['community_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reward_partner_id'), ['partner_id'], unique=False)

    op.create_table('team_membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('joined_at', sa.DateTime(), nullable=False),
    sa.Column('left_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('left_at IS NULL OR left_at >= joined_at', name=op.f('ck_team_membership_period')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_team_membership_team_id_team')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_team_membership_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team_membership'))
    )
    with op.batch_alter_table('team_membership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_membership_team_id'), ['team_id'], unique=False)
        batch_op.create_index('uq_team_membership_current', ['user_id'], unique=True, postgresql_where=sa.text('left_at IS NULL'), sqlite_where=sa.text('left_at IS NULL'))

    op.create_table('voucher',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reward_id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=True),
    sa.Column('status', sa.Enum('ISSUED', 'USED', 'CANCELLED', 'EXPIRED', name='voucherstatus', native_enum=False, length=32), nullable=False),
    sa.Column('issued_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('used_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('price > 0', name=op.f('ck_voucher_price')),
    sa.ForeignKeyConstraint(['holder_id'], ['user_account.id'], name=op.f('fk_voucher_holder_id_user_account')),
    sa.ForeignKeyConstraint(['reward_id'], ['reward.id'], name=op.f('fk_voucher_reward_id_reward')),
    sa.ForeignKeyConstraint(['used_by_id'], ['user_account.id'], name=op.f('fk_voucher_used_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher')),
    sa.UniqueConstraint('code', name=op.f('uq_voucher_code'))
    )
    with op.batch_alter_table('voucher', schema=None) as batch_op:
        batch_op.create_index('ix_voucher_holder_status', ['holder_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_voucher_reward_id'), ['reward_id'], unique=False)
        batch_op.create_index('ix_voucher_status_expires', ['status', 'expires_at'], unique=False)

    op.create_table('stock_movement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reward_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('RECEIVED', 'REDEEMED', 'RETURNED', 'WRITTEN_OFF', name='movementkind', native_enum=False, length=32), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('voucher_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("(kind IN ('RECEIVED', 'RETURNED') AND quantity > 0) OR (kind IN ('REDEEMED', 'WRITTEN_OFF') AND quantity < 0)", name=op.f('ck_stock_movement_signed_by_kind')),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_stock_movement_actor_id_user_account')),
    sa.ForeignKeyConstraint(['reward_id'], ['reward.id'], name=op.f('fk_stock_movement_reward_id_reward')),
    sa.ForeignKeyConstraint(['voucher_id'], ['voucher.id'], name=op.f('fk_stock_movement_voucher_id_voucher')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_movement'))
    )
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_movement_reward_id'), ['reward_id'], unique=False)

    op.create_table('ledger_transaction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.Enum('AWARD', 'REVERSAL', 'REDEMPTION', 'HANDOVER', 'REFUND', 'DONATION', name='txkind', native_enum=False, length=32), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=True),
    sa.Column('earner_id', sa.Integer(), nullable=True),
    sa.Column('community_id', sa.Integer(), nullable=True),
    sa.Column('voucher_id', sa.Integer(), nullable=True),
    sa.Column('reverses_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_ledger_transaction_actor_id_user_account')),
    sa.ForeignKeyConstraint(['claim_id'], ['claim.id'], name=op.f('fk_ledger_transaction_claim_id_claim')),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_ledger_transaction_community_id_community')),
    sa.ForeignKeyConstraint(['earner_id'], ['user_account.id'], name=op.f('fk_ledger_transaction_earner_id_user_account')),
    sa.ForeignKeyConstraint(['reverses_id'], ['ledger_transaction.id'], name=op.f('fk_ledger_transaction_reverses_id_ledger_transaction')),
    sa.ForeignKeyConstraint(['voucher_id'], ['voucher.id'], name=op.f('fk_ledger_transaction_voucher_id_voucher')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_transaction')),
    sa.UniqueConstraint('key', name=op.f('uq_ledger_transaction_key')),
    sa.UniqueConstraint('reverses_id', name=op.f('uq_ledger_transaction_reverses_id'))
    )
    with op.batch_alter_table('ledger_transaction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_transaction_claim_id'), ['claim_id'], unique=False)
        batch_op.create_index('ix_ledger_transaction_community_created', ['community_id', 'created_at'], unique=False)
        batch_op.create_index('ix_ledger_transaction_earner_created', ['earner_id', 'created_at'], unique=False)
        batch_op.create_index('ix_ledger_transaction_kind_created', ['kind', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_transaction_voucher_id'), ['voucher_id'], unique=False)

    op.create_table('ledger_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transaction_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['ledger_account.id'], name=op.f('fk_ledger_entry_account_id_ledger_account')),
    sa.ForeignKeyConstraint(['transaction_id'], ['ledger_transaction.id'], name=op.f('fk_ledger_entry_transaction_id_ledger_transaction')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entry'))
    )
    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entry_account_id', ['account_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entry_transaction_id'), ['transaction_id'], unique=False)

    now = datetime.now(UTC).replace(tzinfo=None)
    # The points each service type had become its first rate, in force since long ago.
    op.execute(
        sa.text(
            "INSERT INTO point_rate (service_type_code, effective_from, points_per_visit, points_per_hour,"
            " created_at) SELECT code, :since, points_per_visit, points_per_hour, :now FROM service_type"
        ).bindparams(since=datetime(2000, 1, 1).date(), now=now)
    )
    op.execute(
        sa.text(
            "INSERT INTO point_policy (effective_from, urgent_bonus, critical_bonus, daily_cap, rounding,"
            " created_at) VALUES (:since, 5, 10, 100, 'HALF_UP', :now)"
        ).bindparams(since=datetime(2000, 1, 1).date(), now=now)
    )
    op.execute(
        sa.text(
            "INSERT INTO ledger_account (kind, owner_id, balance, version, created_at)"
            " VALUES ('ISSUE', 0, 0, 0, :now), ('SINK', 0, 0, 0, :now)"
        ).bindparams(now=now)
    )
    # Plain ALTER TABLE (SQLite 3.35+): a batch copy of service_type would trip
    # the foreign keys that point at it.
    for column in ("points_per_visit", "points_per_hour"):
        op.execute(f"ALTER TABLE service_type DROP COLUMN {column}")
    _immutable(op.get_bind().dialect.name)



IMMUTABLE = ("ledger_entry", "ledger_transaction")


def _immutable(dialect: str) -> None:
    """Refuse UPDATE and DELETE of ledger rows in the database itself."""
    if dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN RAISE EXCEPTION 'ledger rows are never changed: post a reversing transaction'; END $$"
        )
        for table in IMMUTABLE:
            op.execute(
                f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION ledger_immutable()"
            )
    else:
        for table in IMMUTABLE:
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table}"
                    " BEGIN SELECT RAISE(ABORT, 'ledger rows are never changed: post a reversing transaction'); END"
                )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in IMMUTABLE:
            op.execute(f"DROP TRIGGER {table}_immutable ON {table}")
        op.execute("DROP FUNCTION ledger_immutable()")
    else:
        for table in IMMUTABLE:
            for action in ("update", "delete"):
                op.execute(f"DROP TRIGGER {table}_no_{action}")
    op.add_column('service_type', sa.Column('points_per_visit', sa.INTEGER(), nullable=False, server_default='10'))
    op.add_column('service_type', sa.Column('points_per_hour', sa.INTEGER(), nullable=False, server_default='5'))
    newest = (
        "(SELECT {col} FROM point_rate WHERE service_type_code = service_type.code"
        " ORDER BY effective_from DESC, id DESC LIMIT 1)"
    )
    op.execute(
        f"UPDATE service_type SET points_per_visit = COALESCE({newest.format(col='points_per_visit')}, 10),"
        f" points_per_hour = COALESCE({newest.format(col='points_per_hour')}, 5)"
    )

    with op.batch_alter_table('ledger_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entry_transaction_id'))
        batch_op.drop_index('ix_ledger_entry_account_id')

    op.drop_table('ledger_entry')
    with op.batch_alter_table('ledger_transaction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_transaction_voucher_id'))
        batch_op.drop_index('ix_ledger_transaction_kind_created')
        batch_op.drop_index('ix_ledger_transaction_earner_created')
        batch_op.drop_index('ix_ledger_transaction_community_created')
        batch_op.drop_index(batch_op.f('ix_ledger_transaction_claim_id'))

    op.drop_table('ledger_transaction')
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_movement_reward_id'))

    op.drop_table('stock_movement')
    with op.batch_alter_table('voucher', schema=None) as batch_op:
        batch_op.drop_index('ix_voucher_status_expires')
        batch_op.drop_index(batch_op.f('ix_voucher_reward_id'))
        batch_op.drop_index('ix_voucher_holder_status')

    op.drop_table('voucher')
    with op.batch_alter_table('team_membership', schema=None) as batch_op:
        batch_op.drop_index('uq_team_membership_current', postgresql_where=sa.text('left_at IS NULL'), sqlite_where=sa.text('left_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_team_membership_team_id'))

    op.drop_table('team_membership')
    with op.batch_alter_table('reward', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reward_partner_id'))
        batch_op.drop_index(batch_op.f('ix_reward_community_id'))

    op.drop_table('reward')
    op.drop_table('partner_user')
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_community_id'))

    op.drop_table('team')
    with op.batch_alter_table('point_rate', schema=None) as batch_op:
        batch_op.drop_index('ix_point_rate_type_from')

    op.drop_table('point_rate')
    with op.batch_alter_table('point_policy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_point_policy_effective_from'))

    op.drop_table('point_policy')
    with op.batch_alter_table('partner', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partner_street_id'))

    op.drop_table('partner')
    op.drop_table('ledger_account')

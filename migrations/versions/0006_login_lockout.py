"""Login lockout: consecutive failed logins and the time an account is locked until.

Revision ID: 0006_login_lockout
Revises: 0005_jobs
Create Date: 2026-11-23

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_login_lockout'
down_revision = '0005_jobs'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))



def downgrade():
    # Plain ALTER TABLE (SQLite 3.35+): a batch copy would trip the foreign keys to this table.
    op.execute("ALTER TABLE user_account DROP COLUMN locked_until")
    op.execute("ALTER TABLE user_account DROP COLUMN failed_logins")

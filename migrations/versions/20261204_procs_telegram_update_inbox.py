"""telegram updates: the stored update and its processing state (webhook inbox)

Revision ID: procs_tg_inbox
Revises: c7a1e2f0d512
Create Date: 2026-12-04 16:40:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import bot.models.base

revision: str = "procs_tg_inbox"
down_revision: Union[str, Sequence[str], None] = "c7a1e2f0d512"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("telegram_updates", schema=None) as batch_op:
        batch_op.add_column(sa.Column("payload", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("claimed_at", bot.models.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("done_at", bot.models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("telegram_updates", schema=None) as batch_op:
        batch_op.drop_column("done_at")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("payload")

"""verification attempts: the client (web IP, Telegram chat) for a throttle across conversations

Revision ID: c7a1e2f0d512
Revises: 0b7fc8909a06
Create Date: 2026-11-24 10:00:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "c7a1e2f0d512"
down_revision: Union[str, Sequence[str], None] = "0b7fc8909a06"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("verification_attempts") as batch:
        batch.add_column(sa.Column("client_key", sa.String(length=160), nullable=True))
        batch.create_index(batch.f("ix_verification_attempts_client_key"), ["client_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("verification_attempts") as batch:
        batch.drop_index(batch.f("ix_verification_attempts_client_key"))
        batch.drop_column("client_key")

"""staff: server-side staff sessions, failed-login records, the audit log's head

Revision ID: 5e1a7c3d9b20
Revises: procs_tg_inbox
Create Date: 2026-12-04 16:20:00

"""

import json
from datetime import datetime
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import bot.models.base

revision: str = "5e1a7c3d9b20"
down_revision: Union[str, Sequence[str], None] = "procs_tg_inbox"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

GENESIS_HASH = "0" * 64


def upgrade() -> None:
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", bot.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_sessions_user_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_sessions_token_hash")),
    )
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_sessions_user_id"), ["user_id"], unique=False)
    op.create_table(
        "staff_login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("at", bot.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_login_failures")),
    )
    with op.batch_alter_table("staff_login_failures", schema=None) as batch_op:
        batch_op.create_index("ix_staff_login_failures_kind_key_at", ["kind", "key", "at"], unique=False)
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    # Entries written before this revision were chained with plain SHA-256, which anyone who can
    # write the database can recompute: chain them again with the key (BOT_AUDIT_KEY) and sign the head.
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT id, at, actor, action, object_type, object_id, customer_id, before, after "
            "FROM audit_log ORDER BY id"
        )
    ).all()
    last_id, last_hash = 0, GENESIS_HASH
    if rows:
        from bot.services import audit

        key = audit.audit_key()  # AuditKeyMissing: run `python -m bot init-env` first
        utc = bot.models.base.UTCDateTime()
        for row in rows:
            at = utc.process_result_value(
                row.at if not isinstance(row.at, str) else _parse(row.at), conn.dialect
            )
            before, after = (_json(v) for v in (row.before, row.after))
            digest = audit.entry_digest(
                last_hash, at, row.actor, row.action, row.object_type, row.object_id, row.customer_id,
                before, after, key=key,
            )  # fmt: skip
            conn.execute(
                sa.text("UPDATE audit_log SET prev_hash = :prev, entry_hash = :h WHERE id = :id"),
                {"prev": last_hash, "h": digest, "id": row.id},
            )
            last_id, last_hash = int(row.id), digest
        mac: str | None = audit.head_mac(last_id, last_hash, len(rows), key=key)
    else:
        mac = None
    op.bulk_insert(
        head, [{"id": 1, "last_id": last_id, "last_hash": last_hash, "entries": len(rows), "mac": mac}]
    )


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _json(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value


def downgrade() -> None:
    op.drop_table("audit_head")
    with op.batch_alter_table("staff_login_failures", schema=None) as batch_op:
        batch_op.drop_index("ix_staff_login_failures_kind_key_at")
    op.drop_table("staff_login_failures")
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_sessions_user_id"))
    op.drop_table("staff_sessions")

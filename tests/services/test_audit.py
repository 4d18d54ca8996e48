"""The audit log: completeness, the hash chain's tamper check, and the CSV exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bot.models import AuditEntry
from bot.services import audit
from bot.services.tickets import workflow
from tests import desk_support
from tests.desk_support import StaffClient, World

app, login, world = desk_support.app, desk_support.login, desk_support.world  # fixtures

Login = Callable[[str], StaffClient]


def _process_beneficiary_change(session: Session, world: World) -> None:
    t = world.beneficiary_ticket
    workflow.take(session, world.proc, t)
    workflow.process(session, world.proc, t, "已核对")
    workflow.approve(session, world.reviewer, t, "复核通过")


def test_chain_is_intact_after_normal_work(session: Session, world: World) -> None:
    _process_beneficiary_change(session, world)
    assert audit.verify_chain(session) is None


def test_modified_row_is_detected(session: Session, world: World) -> None:
    _process_beneficiary_change(session, world)
    target = session.scalars(select(AuditEntry).where(AuditEntry.action == "update_beneficiaries")).one()
    # someone edits the log directly in SQL to hide who the new beneficiary is
    session.execute(
        text("UPDATE audit_log SET after = :after WHERE id = :id"),
        {"after": json.dumps({"beneficiaries": []}), "id": target.id},
    )
    session.expire_all()
    assert audit.verify_chain(session) == target.id


def test_deleted_row_is_detected(session: Session, world: World) -> None:
    _process_beneficiary_change(session, world)
    ids = list(session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
    victim = ids[-3]
    session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": victim})
    session.expire_all()
    broken = audit.verify_chain(session)
    assert broken == ids[ids.index(victim) + 1]  # the next entry no longer chains


def test_supervisor_sees_tampering_in_the_api_and_the_page(
    login: Login, world: World, session: Session
) -> None:
    sup = login("sup_zhou")
    assert sup.get("/api/audit/verify").json()["intact"] is True
    page = sup.get("/desk/audit?verify=1")
    assert "审计日志完整" in page.text
    first = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1)).one()
    session.execute(
        text("UPDATE audit_log SET actor = 'staff:someone_else' WHERE id = :id"), {"id": first.id}
    )
    session.expire_all()
    body = sup.get("/api/audit/verify").json()
    assert body["intact"] is False and body["first_broken_id"] == first.id
    assert "篡改" in body["message"]
    assert f"第 {first.id} 条审计记录校验失败" in sup.get("/desk/audit?verify=1").text


def test_every_view_and_change_is_recorded(login: Login, world: World, session: Session) -> None:
    proc, rev = login("proc_wang"), login("rev_sun")
    n = world.beneficiary_ticket.number
    proc.get(f"/desk/tickets/{n}")
    proc.post(f"/api/tickets/{n}/take")
    proc.post(f"/api/tickets/{n}/comment", json={"note": "已电话联系客户"})
    proc.post(f"/api/tickets/{n}/process")
    rev.get(f"/api/tickets/{n}")
    rev.post(f"/api/tickets/{n}/approve", json={"reason": "复核通过"})
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.customer_id == world.customer.id).order_by(AuditEntry.id)
    )
    trail = [(e.actor, e.action) for e in rows]
    assert trail == [
        ("staff:proc_wang", "view_personal_data"),
        ("staff:proc_wang", "ticket_take"),
        ("staff:proc_wang", "ticket_comment"),
        ("staff:proc_wang", "ticket_process"),
        ("staff:rev_sun", "view_personal_data"),
        ("staff:rev_sun", "update_beneficiaries"),
        ("staff:rev_sun", "ticket_approve"),
    ]
    logins = session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "login")).all()
    assert set(logins) == {"staff:proc_wang", "staff:rev_sun"}


def _csv_rows(resp: Any) -> list[dict[str, str]]:
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(resp.text.lstrip("\ufeff"))))


def test_ticket_audit_trail_exports_as_csv(login: Login, world: World, session: Session) -> None:
    _process_beneficiary_change(session, world)
    sup = login("sup_zhou")
    rows = _csv_rows(sup.get(f"/api/tickets/{world.beneficiary_ticket.number}/audit.csv"))
    assert [r["action"] for r in rows] == [
        "ticket_take",
        "ticket_process",
        "update_beneficiaries",
        "ticket_approve",
    ]
    change = rows[2]
    assert change["object_type"] == "policy" and change["object_id"] == world.policy.number
    assert json.loads(change["before"])["beneficiaries"][0]["name"] == "张*山"
    assert {b["name"] for b in json.loads(change["after"])["beneficiaries"]} == {"张*明", "李*英"}
    assert all(len(r["entry_hash"]) == 64 for r in rows)
    # the export itself is recorded
    assert (
        session.scalars(select(AuditEntry).where(AuditEntry.action == "export_audit")).one().actor
        == "staff:sup_zhou"
    )


def test_customer_audit_trail_exports_as_csv(login: Login, world: World, session: Session) -> None:
    _process_beneficiary_change(session, world)
    sup = login("sup_zhou")
    rows = _csv_rows(sup.get(f"/api/customers/{world.customer.id}/audit.csv"))
    assert {r["customer_id"] for r in rows} == {str(world.customer.id)}
    assert "update_beneficiaries" in [r["action"] for r in rows]
    assert world.id_new not in json.dumps(rows, ensure_ascii=False)
    assert sup.get("/api/customers/999999/audit.csv").status_code == 404

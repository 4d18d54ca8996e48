"""The reports page ``/desk/reports`` (supervisors): tickets, claims and conversations, with charts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from bot import labels_zh
from bot.channels.tracker_transcripts import TrackerStore
from bot.config import Settings
from bot.labels_zh import CLAIM_STATUS_ZH
from bot.models import ClaimStatus, TicketStatus, TicketType
from bot.services import reports
from bot.web.deps import SessionDep, SettingsDep, SupervisorApiUser, SupervisorPageUser
from bot.web.staff.cookies import staff_context
from bot.web.templating import templates

router = APIRouter()


def _figures(settings: Settings, db: Session) -> dict[str, Any]:
    return {
        "tickets": reports.ticket_figures(db),
        "conversations": reports.conversation_figures(
            db, TrackerStore(settings.tracker_database_url), tz=settings.timezone
        ),
    }


@router.get("/api/reports", tags=["reports"], summary="报表数据(主管)")
def reports_api(user: SupervisorApiUser, db: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    return _figures(settings, db)


@router.get("/desk/reports", response_class=HTMLResponse, include_in_schema=False)
def reports_page(
    request: Request, user: SupervisorPageUser, db: SessionDep, settings: SettingsDep
) -> Response:
    figs = _figures(settings, db)
    t, c = figs["tickets"], figs["conversations"]
    type_zh = {TicketType(k): v for k, v in t["by_type"].items()}
    status_zh = {TicketStatus(k): v for k, v in t["by_status"].items()}
    charts = {
        "by_type": reports.bar_chart_svg(
            "工单类型分布",
            {labels_zh.TYPE_LABELS_ZH[k]: v for k, v in sorted(type_zh.items(), key=lambda kv: -kv[1])},
            horizontal=True,
        ),
        "by_status": reports.bar_chart_svg(
            "工单状态分布", {labels_zh.STATUS_LABELS_ZH[s]: status_zh.get(s, 0) for s in TicketStatus}
        ),
        "sla": reports.pie_chart_svg(
            "未结工单时效", {"时效内": t["sla"]["within"], "已超时": t["sla"]["breached"]}
        ),
        "claims": reports.bar_chart_svg(
            "理赔案件状态", {CLAIM_STATUS_ZH[s]: t["claims_by_status"].get(s.value, 0) for s in ClaimStatus}
        ),
        "per_day": reports.bar_chart_svg("每日会话量(近30天)", {d[5:]: n for d, n in c["per_day"].items()}),
        "intents": reports.bar_chart_svg("客户意图分布(前15)", c["intents"], horizontal=True),
    }
    if c["conversations"]:
        charts["containment"] = reports.pie_chart_svg(
            "自助解决率",
            {"机器人独立完成": c["contained"], "转人工/投诉": c["conversations"] - c["contained"]},
        )
    return templates.TemplateResponse(
        request,
        "desk/reports.html",
        staff_context(
            request,
            user,
            figs=figs,
            charts={k: Markup(v) for k, v in charts.items()},  # noqa: S704 - SVG rendered by pygal, labels escaped
            type_labels={k.value: v for k, v in labels_zh.TYPE_LABELS_ZH.items()},
            status_labels={k.value: v for k, v in labels_zh.STATUS_LABELS_ZH.items()},
            claim_labels={k.value: v for k, v in CLAIM_STATUS_ZH.items()},
        ),
    )

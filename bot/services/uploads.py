"""Documents customers send (Telegram photo or document, web chat upload).

Files go to ``settings.upload_dir`` under random names with a fixed extension chosen from the
sniffed content, never the customer's name; size and type are limited and the content is
checked by its magic bytes (the declared type alone is never trusted). Files are never executed
and never served back as they came. Each file is attached to the open claim or ticket the
conversation is about, under a document code from the catalog, and the reply says what is
still missing.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import catalog
from bot.catalog import DocumentSpec
from bot.config import Settings, get_settings
from bot.errors import ActiveContent, CaseUploadsFull, EmptyFile, NoOpenCase, TooLarge, UploadRejected
from bot.models import Claim, ClaimStatus, Document, Ticket, TicketType
from bot.models.base import utcnow
from bot.services.tickets.create import add_event, open_tickets_for_conversation

OPEN_CLAIM_STATUSES = (ClaimStatus.REPORTED, ClaimStatus.DOCUMENTS_PENDING, ClaimStatus.UNDER_REVIEW)
OTHER_DOC = ("other", "其他补充材料")

# sniffed type → (extension, content type)
KINDS: dict[str, tuple[str, str]] = {
    "jpeg": (".jpg", "image/jpeg"),
    "png": (".png", "image/png"),
    "pdf": (".pdf", "application/pdf"),
    "heic": (".heic", "image/heic"),
}
DECLARED_OK = {
    "jpeg": {"image/jpeg", "image/jpg", "image/pjpeg"},
    "png": {"image/png"},
    "pdf": {"application/pdf"},
    "heic": {"image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"},
}
GENERIC_TYPES = {"", "application/octet-stream", "binary/octet-stream"}
HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}


def sniff(data: bytes) -> str | None:
    """The file's real kind by its magic bytes, or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:5] == b"%PDF-":
        return "pdf"
    if data[4:8] == b"ftyp" and data[8:12] in HEIC_BRANDS:
        return "heic"
    return None


# Markup or script anywhere in an image (a JPEG/HTML polyglot renders as a page if ever served
# as HTML). Whole tags and words only, so that random bytes of a photo do not match.
_IMAGE_ACTIVE = re.compile(
    rb"<(?:script|html|body|head|iframe|frame|svg|object|embed|meta|form|img|a|link|style|base|xml)[\s>/]"
    rb"|<!doctype|<\?php|<\?xml|javascript:|vbscript:|\bon(?:error|load|click|mouseover)\s*=",
    re.IGNORECASE,
)
# PDF names that run something: scripts, actions on open or on events, launching, embedded files.
_PDF_ACTIVE_NAMES = frozenset(
    {"/JavaScript", "/JS", "/AA", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia", "/XFA"}
)
_PDF_ACTIVE_BYTES = re.compile(
    rb"/(?:JavaScript|JS|AA|Launch|EmbeddedFiles?|RichMedia|XFA)(?=[\s/<>\[\]()%{}]|$)"
)
_PDF_ACTIVE_ACTIONS = frozenset({"/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/GoToE"})


def has_active_content(kind: str, data: bytes) -> bool:
    """HTML/script markers anywhere in an image; scripts, automatic actions, launches or embedded
    files in a PDF (a byte scan, then pypdf's view of every object, which also sees compressed
    object streams and names written with #xx escapes)."""
    if kind != "pdf":
        return _IMAGE_ACTIVE.search(data) is not None
    if _PDF_ACTIVE_BYTES.search(data):
        return True
    return _pdf_objects_active(data)


def _pdf_objects_active(data: bytes) -> bool:
    from pypdf import PdfReader
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        stack: list[object] = [reader.trailer]
        seen: set[tuple[int, int]] = set()
        visited = 0
        while stack:
            visited += 1
            if visited > 200_000:
                return True  # pathological structure: refuse rather than spend the CPU
            obj = stack.pop()
            if isinstance(obj, IndirectObject):
                ref = (obj.idnum, obj.generation)
                if ref in seen:
                    continue
                seen.add(ref)
                obj = obj.get_object()
            if isinstance(obj, DictionaryObject):
                for key, value in obj.items():
                    if key in _PDF_ACTIVE_NAMES:
                        return True
                    if key == "/S" and isinstance(value, NameObject) and value in _PDF_ACTIVE_ACTIONS:
                        return True
                    stack.append(value)
            elif isinstance(obj, ArrayObject):
                stack.extend(obj)
    except Exception:  # unreadable as a PDF: refuse it
        return True
    return False


def check_file(data: bytes, declared_type: str | None, max_bytes: int) -> tuple[str, str]:
    """Size, magic bytes, agreement with the declared type and no active content; returns
    (extension, content type)."""
    if not data:
        raise EmptyFile()
    if len(data) > max_bytes:
        raise TooLarge(str(len(data)))
    kind = sniff(data)
    if kind is None:
        raise UploadRejected("unknown content")
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared not in GENERIC_TYPES and declared not in DECLARED_OK[kind]:
        raise UploadRejected(f"declared {declared}, content {kind}")
    if has_active_content(kind, data):
        raise ActiveContent(f"active content in {kind}")
    return KINDS[kind]


def safe_display_name(name: str | None) -> str:
    """The customer's file name for display only: no path, no control characters, bounded."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = re.sub(r"[\x00-\x1f\x7f<>\"'`]", "", base).strip()
    return base[:120] or "file"


# ---------------------------------------------------------------- which case, which document


@dataclass
class Case:
    claim: Claim | None
    ticket: Ticket | None

    @property
    def label_zh(self) -> str:
        if self.claim is not None:
            return f"理赔案件 {self.claim.number}"
        assert self.ticket is not None
        return f"工单 {self.ticket.number}"


def open_case(session: Session, conversation_id: str) -> Case | None:
    """The open claim (and its ticket) or the open ticket this conversation is about."""
    claim = session.scalars(
        select(Claim)
        .where(Claim.conversation_id == conversation_id, Claim.status.in_(OPEN_CLAIM_STATUSES))
        .order_by(Claim.reported_at.desc(), Claim.id.desc())
    ).first()
    tickets = [
        t
        for t in open_tickets_for_conversation(session, conversation_id)
        if t.ticket_type != TicketType.HUMAN_HANDOVER
    ]
    if claim is not None:
        ticket = next((t for t in tickets if t.claim_id == claim.id), None)
        if ticket is None:
            ticket = session.scalars(
                select(Ticket).where(Ticket.claim_id == claim.id).order_by(Ticket.id.desc())
            ).first()
        return Case(claim=claim, ticket=ticket)
    if tickets:
        return Case(claim=None, ticket=tickets[0])
    return None


def requirements(case: Case) -> list[DocumentSpec]:
    """The documents the case needs, from the catalog (conditions known from the claim applied)."""
    try:
        if case.claim is not None:
            return catalog.claim_requirements(
                case.claim.claim_type.value, police_reported=case.claim.police_reported
            )
        assert case.ticket is not None
        return catalog.service_requirements(case.ticket.ticket_type.value)
    except (KeyError, ValueError):
        return []


def documents_on_case(session: Session, case: Case) -> int:
    """How many documents the case holds already (the per-case cap of ``upload_max_per_case``)."""
    stmt = select(func.count(Document.id))
    if case.claim is not None:
        stmt = stmt.where(Document.claim_id == case.claim.id)
    else:
        assert case.ticket is not None
        stmt = stmt.where(Document.ticket_id == case.ticket.id)
    return int(session.scalar(stmt) or 0)


def received_codes(session: Session, case: Case) -> set[str]:
    stmt = select(Document.doc_code)
    if case.claim is not None:
        stmt = stmt.where(Document.claim_id == case.claim.id)
    else:
        assert case.ticket is not None
        stmt = stmt.where(Document.ticket_id == case.ticket.id)
    return set(session.scalars(stmt))


def choose_doc(
    required: list[DocumentSpec], received: set[str], hint: str | None, *, is_photo: bool = False
) -> tuple[str, str, bool]:
    """(code, name, guessed): the document the hint names, else the first one still missing
    (for a photo, the first missing document that is a photo, such as 事故现场照片)."""
    hint = re.sub(r"\s+", "", hint or "")
    if hint:
        for doc in required:
            if hint == doc.code or doc.name in hint or (len(hint) >= 2 and hint in doc.name):
                return doc.code, doc.name, False
    missing = catalog.missing_documents(required, received)
    if is_photo:
        for doc in missing:
            if doc.form == "photo":
                return doc.code, doc.name, True
    for doc in missing:
        return doc.code, doc.name, True
    for doc in required:
        if doc.code not in received:
            return doc.code, doc.name, True
    return (*OTHER_DOC, False)


@dataclass
class UploadResult:
    document: Document
    case: Case
    doc_name_zh: str
    guessed: bool
    missing_zh: list[str] = field(default_factory=list)

    @property
    def message_zh(self) -> str:
        if self.guessed:
            lines = [
                f"已收到您上传的文件,已归档到{self.case.label_zh}。",
                f"您没有说明这是哪份材料,我们先按「{self.doc_name_zh}」登记;如有不同,请回复告诉我们。",
            ]
        else:
            lines = [f"已收到您上传的「{self.doc_name_zh}」,已归档到{self.case.label_zh}。"]
        if self.missing_zh:
            items = "\n".join(f"{i}. {name}" for i, name in enumerate(self.missing_zh, 1))
            lines.append(f"还需要补充以下材料:\n{items}")
        else:
            lines.append("所需材料已齐全,我们会尽快审核,审核结果会第一时间通知您。")
        return "\n".join(lines)


def receive_document(
    session: Session,
    conversation_id: str,
    data: bytes,
    *,
    file_name: str | None,
    declared_type: str | None,
    channel: str,
    hint: str | None = None,
    settings: Settings | None = None,
) -> UploadResult:
    """Check, store and attach one file; returns what to tell the customer."""
    settings = settings or get_settings()
    extension, content_type = check_file(data, declared_type, settings.upload_max_bytes)
    case = open_case(session, conversation_id)
    if case is None:
        raise NoOpenCase(conversation_id)
    if documents_on_case(session, case) >= settings.upload_max_per_case:
        raise CaseUploadsFull(case.label_zh)
    required = requirements(case)
    received = received_codes(session, case)
    code, name, guessed = choose_doc(required, received, hint, is_photo=content_type.startswith("image/"))

    now = utcnow()
    folder = Path(settings.upload_dir) / f"{now:%Y}" / f"{now:%m}"
    folder.mkdir(parents=True, exist_ok=True, mode=0o750)
    path = folder / (secrets.token_hex(16) + extension)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)

    document = Document(
        doc_code=code,
        claim_id=case.claim.id if case.claim else None,
        ticket_id=case.ticket.id if case.ticket else None,
        file_name=safe_display_name(file_name),
        stored_path=str(path),
        content_type=content_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        channel=channel,
        received_at=now,
    )
    session.add(document)
    session.flush()
    if case.ticket is not None:
        add_event(
            session,
            case.ticket,
            kind="document",
            actor_label="customer",
            note=f"客户上传材料:{name}({channel})",
        )
    received.add(code)
    missing = [d.label for d in catalog.missing_documents(required, received)]
    if case.claim is not None and case.claim.status == ClaimStatus.REPORTED and missing:
        case.claim.status = ClaimStatus.DOCUMENTS_PENDING
    return UploadResult(document=document, case=case, doc_name_zh=name, guessed=guessed, missing_zh=missing)

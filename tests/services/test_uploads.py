"""Documents customers send: limits, content checks, storage, attachment and the checklist."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.errors import EmptyFile, NoOpenCase, TooLarge, UploadRejected
from bot.models import ClaimStatus, Document, TicketEvent, TicketType
from bot.services import uploads
from bot.services.tickets.create import create_ticket
from tests.channel_support import JPEG, PDF, PNG, make_claim, make_customer, make_policy, make_settings

HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 50


@pytest.fixture
def settings(tmp_path: Path):
    return make_settings("sqlite://", tmp_path, upload_max_bytes=4096)


@pytest.mark.parametrize(
    ("data", "declared", "expected"),
    [
        (JPEG, "image/jpeg", ("jpg", "image/jpeg")),
        (PNG, "image/png", ("png", "image/png")),
        (PDF, "application/pdf", ("pdf", "application/pdf")),
        (HEIC, "image/heic", ("heic", "image/heic")),
        (JPEG, "application/octet-stream", ("jpg", "image/jpeg")),
    ],
)
def test_accepted_files_are_recognised_by_their_content(data, declared, expected) -> None:
    ext, ctype = uploads.check_file(data, declared, 4096)
    assert (ext.lstrip("."), ctype) == expected


@pytest.mark.parametrize(
    ("data", "declared", "error"),
    [
        (b"MZ\x90\x00" + b"\x00" * 50, "image/jpeg", UploadRejected),  # an executable named .jpg
        (b"<html><script>alert(1)</script>", "text/html", UploadRejected),
        (PNG, "image/jpeg", UploadRejected),  # declared type disagrees with the content
        (PDF, "image/png", UploadRejected),
        (b"", "image/jpeg", EmptyFile),
        (JPEG + b"\x00" * 5000, "image/jpeg", TooLarge),
    ],
)
def test_refused_files(data, declared, error) -> None:
    with pytest.raises(error):
        uploads.check_file(data, declared, 4096)


def test_display_names_lose_paths_and_markup() -> None:
    assert uploads.safe_display_name("../../etc/passwd") == "passwd"
    assert uploads.safe_display_name('C:\\x\\<img src=x onerror="a">.jpg') == "img src=x onerror=a.jpg"
    assert uploads.safe_display_name(None) == "file"


def test_a_photo_without_a_hint_is_filed_as_the_first_missing_photo_and_the_reply_says_so(
    session, settings
) -> None:
    conversation = "web:upload-test-1"
    claim = make_claim(session, make_policy(session, make_customer(session)), conversation)
    ticket, _ = create_ticket(
        session, ticket_type=TicketType.CLAIM, claim_id=claim.id, conversation_id=conversation
    )
    result = uploads.receive_document(
        session,
        conversation,
        JPEG,
        file_name="IMG_0001.jpg",
        declared_type="image/jpeg",
        channel="web",
        settings=settings,
    )
    doc = result.document
    assert doc.claim_id == claim.id and doc.ticket_id == ticket.id
    assert doc.doc_code == "accident_photos" and result.guessed
    assert "事故现场照片" in result.message_zh and "如有不同" in result.message_zh
    assert "还需要补充" in result.message_zh and "驾驶证" in result.message_zh
    stored = Path(doc.stored_path or "")
    assert stored.is_file() and stored.parent.is_relative_to(settings.upload_dir)
    assert stored.name != "IMG_0001.jpg" and stored.suffix == ".jpg"
    assert not stored.stat().st_mode & 0o111  # never executable
    assert len(doc.sha256 or "") == 64
    assert claim.status == ClaimStatus.DOCUMENTS_PENDING
    events = session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "document")
    )
    assert [e.note for e in events] == ["客户上传材料:事故现场照片(web)"]


def test_the_hint_names_the_document_and_the_checklist_shrinks(session, settings) -> None:
    conversation = "web:upload-test-2"
    claim = make_claim(session, make_policy(session, make_customer(session)), conversation)
    first = uploads.receive_document(
        session,
        conversation,
        PDF,
        file_name="a.pdf",
        declared_type="application/pdf",
        channel="web",
        hint="驾驶证",
        settings=settings,
    )
    assert first.document.doc_code == "driver_license" and not first.guessed
    assert all("驾驶证" not in m for m in first.missing_zh)
    before = len(first.missing_zh)
    second = uploads.receive_document(
        session,
        conversation,
        PDF,
        file_name="b.pdf",
        declared_type="application/pdf",
        channel="web",
        hint="行驶证",
        settings=settings,
    )
    assert len(second.missing_zh) == before - 1
    codes = set(session.scalars(select(Document.doc_code).where(Document.claim_id == claim.id)))
    assert codes == {"driver_license", "vehicle_license"}


def test_no_open_case_means_nothing_is_stored(session, settings) -> None:
    with pytest.raises(NoOpenCase):
        uploads.receive_document(
            session,
            "web:upload-nobody",
            JPEG,
            file_name="x.jpg",
            declared_type="image/jpeg",
            channel="web",
            settings=settings,
        )
    assert not Path(settings.upload_dir).exists() or not any(Path(settings.upload_dir).rglob("*.jpg"))

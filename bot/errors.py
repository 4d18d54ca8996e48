"""Domain errors with stable codes.

Actions turn a code into the response ``utter_error_<code>``; the API turns it into a 4xx with a
fixed message. Exception text never reaches a customer.
"""

from __future__ import annotations


class DomainError(Exception):
    code: str = "internal"
    http_status: int = 400
    message_zh: str = "抱歉,系统暂时无法处理您的请求,请稍后再试。"

    def __init__(self, detail: str = "", *, message_zh: str | None = None, **context: object) -> None:
        super().__init__(detail or self.code)
        self.detail = detail
        self.context = context
        if message_zh is not None:
            self.message_zh = message_zh  # a more precise wording than the class default


class NotFound(DomainError):
    code = "not_found"
    http_status = 404
    message_zh = "未找到相关记录。"


class PolicyNotFound(NotFound):
    code = "policy_not_found"
    message_zh = "未查询到该保单,请核对保单号。"


class ClaimNotFound(NotFound):
    code = "claim_not_found"
    message_zh = "未查询到该理赔案件,请核对理赔案号。"


class TicketNotFound(NotFound):
    code = "ticket_not_found"
    message_zh = "未查询到该工单。"


class InvalidInput(DomainError):
    code = "invalid_input"
    http_status = 422
    message_zh = "您提供的信息格式不正确,请核对后重新输入。"


class VerificationFailed(DomainError):
    code = "verification_failed"
    http_status = 403
    message_zh = "身份核验未通过,请核对保单号、投保人姓名和身份证号后六位。"


class VerificationLocked(DomainError):
    code = "verification_locked"
    http_status = 423
    message_zh = "核验失败次数过多,为保护您的信息安全,请15分钟后再试,或转人工客服。"


class NotVerified(DomainError):
    code = "not_verified"
    http_status = 403
    message_zh = "为保护您的信息安全,请先完成身份核验。"


class InvalidTransition(DomainError):
    code = "invalid_transition"
    http_status = 409
    message_zh = "当前状态下不能进行该操作。"


class PermissionDenied(DomainError):
    code = "permission_denied"
    http_status = 403
    message_zh = "您没有权限进行该操作。"


class SelfApproval(PermissionDenied):
    code = "self_approval"
    message_zh = "复核须由经办人以外的另一位同事完成。"


class PolicyNotEligible(DomainError):
    code = "policy_not_eligible"
    http_status = 409
    message_zh = "该保单当前状态不支持此项业务。"


# --- text ---


class ClaimTypeMismatch(DomainError):
    code = "claim_type_mismatch"
    http_status = 409
    message_zh = "该保单的险种不能办理这类理赔,请换一张保单或转人工客服。"


class UploadRejected(DomainError):
    code = "upload_rejected"
    http_status = 422
    message_zh = "抱歉,该文件无法接收。请上传 JPG、PNG、HEIC 格式的照片或 PDF 文件。"


class TooLarge(UploadRejected):
    code = "upload_too_large"
    http_status = 413
    message_zh = "抱歉,文件过大(单个文件不超过 10MB)。请压缩后重新上传,或分多次上传。"


class EmptyFile(UploadRejected):
    code = "upload_empty"
    message_zh = "抱歉,收到的文件是空的,请重新上传。"


class ActiveContent(UploadRejected):
    code = "upload_active_content"
    message_zh = (
        "抱歉,该文件含有网页代码、脚本或嵌入内容,出于安全考虑无法接收。"
        "请上传普通的照片(JPG、PNG、HEIC)或不含脚本的 PDF 文件。"
    )


class CaseUploadsFull(UploadRejected):
    code = "upload_case_full"
    http_status = 409
    message_zh = (
        "抱歉,本案件已收到的材料数量已达上限,暂不能继续上传。如需补充材料,请说“转人工”由人工客服协助您。"
    )


class NoOpenCase(DomainError):
    code = "upload_no_open_case"
    http_status = 409
    message_zh = (
        "已收到您的文件,但暂未找到与本次对话关联的报案或业务申请。请先告诉我您要办理的业务"
        "(例如“我要报案”),完成登记后再上传材料,我们会自动归档。"
    )


class HandoverClosed(DomainError):
    code = "handover_closed"
    http_status = 409
    message_zh = "该会话已交还智能助手或已结束。"


class RemindersNotSupported(DomainError):
    code = "reminders_channel"
    message_zh = "抱歉,当前渠道暂不支持交费提醒设置,您可以通过我们的网页在线客服或Telegram设置。"


# --- tickets ---


class ChangeRequestInvalid(InvalidInput):
    """A change request that cannot be submitted; ``message_zh`` says why and what to do."""

    code = "change_invalid"

    def __init__(self, message_zh: str, **context: object) -> None:
        super().__init__(message_zh, message_zh=message_zh, **context)

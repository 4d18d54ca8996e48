"""Customer names as typed in a chat: "我叫张伟。", "投保人是 张 伟", "John Smith"."""

from __future__ import annotations

import re

NAME_RE = re.compile(r"^[\u4e00-\u9fa5·•]{2,20}$|^[A-Za-z][A-Za-z .'-]{1,40}$")
NAME_PREFIXES = (
    "我的名字是",
    "我的名字叫",
    "投保人是",
    "投保人叫",
    "姓名是",
    "姓名",
    "名字是",
    "我叫",
    "我是",
    "叫",
)


def clean_name(text: str) -> str | None:
    """The name itself (lead-in words, punctuation and spaces between Chinese characters
    removed), or None when what is left is not a plausible name."""
    value = re.sub(r"^[。,.,!!~\s]+|[。,.,!!~\s]+$", "", text)
    for prefix in NAME_PREFIXES:
        if value.startswith(prefix):
            value = re.sub(r"^[::\s]+|[::\s]+$", "", value[len(prefix) :])
            break
    value = value.replace(" ", "") if re.search(r"[\u4e00-\u9fa5]", value) else value
    return value if NAME_RE.match(value) else None

"""The knowledge base as data: entries read from ``data/knowledge/<topic>.yml`` and their checks.

The schema is documented in ``data/knowledge/README.md``. ``load_entries`` reads and checks the
structure (types, unique ids); ``validate_knowledge`` adds the rules that need the rest of the project
(intents of domain.yml, the seed manifest, punctuation, duplicates, counts) and is what
``scripts/validate_knowledge.py`` runs before the tests.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MIN_ENTRIES = 250
MIN_QUESTIONS = 3
SOURCES_FILE = "sources.yml"
GENERAL_SOURCE = "general"

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_CJK = r"[\u3400-\u9fff]"
# A half-width , ? : ; ! ( ) next to a Chinese character (full-width ，？：；！（） is expected there).
_HALF_WIDTH_RE = re.compile(rf"{_CJK}[,?:;!()]|[,?:;!()]{_CJK}")
# Anything that looks like customer data or an unfilled template slot.
_POLICY_DATA_RE = re.compile(r"\{|\}|\b(?:LF|HE|AC|AU)\d{10}\b|\b(?:CL|TK)\d{10}\b|\d{4}年\d{1,2}月\d{1,2}日")
_PUNCT_RE = re.compile(r"[\s\W_]+", re.UNICODE)


# How a customer is told where an answer comes from (the seed documents are the business's own
# rules for each back-office job; their file names mean nothing to a customer).
GENERAL_SOURCE_ZH = "保险常识"
SEED_SOURCES_ZH = {
    "000": "保单服务规则",
    "001": "保全业务规则",
    "002": "续期交费规则",
    "003": "理赔服务规则",
}


class KnowledgeError(ValueError):
    """The knowledge files break the schema; ``errors`` lists every problem found."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("knowledge base invalid:\n  " + "\n  ".join(errors))


@dataclass(frozen=True)
class Source:
    file: str | None  # None: general consumer insurance knowledge
    section: str | None

    @property
    def label(self) -> str:
        """Where the answer comes from, for business people editing the data (file and section)."""
        return "常识（general）" if self.file is None else f"{self.file}：{self.section}"

    @property
    def customer_label(self) -> str:
        """Where the answer comes from, as a customer reads it: the kind of rule, not a file name."""
        if self.file is None:
            return GENERAL_SOURCE_ZH
        return SEED_SOURCES_ZH.get(self.file[:3], GENERAL_SOURCE_ZH)


@dataclass(frozen=True)
class Flow:
    title: str
    payload: str  # "/<intent>"

    @property
    def intent(self) -> str:
        return self.payload.removeprefix("/")


@dataclass(frozen=True)
class Entry:
    id: str
    topic: str
    topic_title: str
    title: str
    questions: tuple[str, ...]
    answer: str
    source: Source
    flow: Flow | None
    policy_specific: bool
    file: str


def normalize_question(text: str) -> str:
    """NFKC, lower case, no punctuation or spaces: the form duplicates are compared in."""
    return _PUNCT_RE.sub("", unicodedata.normalize("NFKC", text).lower())


def _clean(text: str) -> str:
    # Folded YAML (>-) joins lines with a space; Chinese text has no spaces between sentences.
    return re.sub(r"(?<=[^\x00-\x7f])\s+(?=[^\x00-\x7f])", "", text.strip())


def _text(raw: dict[str, Any], key: str, where: str, errors: list[str]) -> str:
    value = raw.get(key)
    if isinstance(value, str) and value.strip():
        return value
    errors.append(f"{where}: {key} must be non-empty text")
    return ""


def _parse_entry(
    raw: Any, where: str, topic: str, topic_title: str, file: str, errors: list[str]
) -> Entry | None:
    if not isinstance(raw, dict):
        errors.append(f"{where}: an entry must be a mapping")
        return None
    known = {"id", "title", "questions", "answer", "source", "flow", "policy_specific", "topic"}
    for key in sorted(set(raw) - known):
        errors.append(f"{where}: unknown field {key!r}")
    entry_id = raw.get("id")
    if not isinstance(entry_id, str) or not _ID_RE.match(entry_id):
        errors.append(f"{where}: id must be lower_snake_case text, got {entry_id!r}")
        return None
    where = f"{file} [{entry_id}]"
    if "topic" in raw and raw["topic"] != topic:
        errors.append(f"{where}: topic {raw['topic']!r} differs from the file's topic {topic!r}")
    title = _text(raw, "title", where, errors)
    questions = raw.get("questions")
    if not isinstance(questions, list) or not all(isinstance(q, str) and q.strip() for q in questions):
        errors.append(f"{where}: questions must be a list of non-empty texts")
        questions = []
    if len(questions) < MIN_QUESTIONS:
        errors.append(f"{where}: needs at least {MIN_QUESTIONS} questions, has {len(questions)}")
    answer = _text(raw, "answer", where, errors)
    src = raw.get("source")
    source: Source
    if src == GENERAL_SOURCE:
        source = Source(None, None)
    elif isinstance(src, dict) and isinstance(src.get("file"), str) and isinstance(src.get("section"), str):
        source = Source(src["file"], src["section"])
        for key in sorted(set(src) - {"file", "section"}):
            errors.append(f"{where}: unknown source field {key!r}")
    else:
        errors.append(f"{where}: source must be 'general' or {{file: <seed file>, section: <section>}}")
        source = Source(None, None)
    flow_raw = raw.get("flow")
    flow: Flow | None = None
    if flow_raw is not None:
        if (
            isinstance(flow_raw, dict)
            and set(flow_raw) == {"title", "payload"}
            and isinstance(flow_raw["title"], str)
            and isinstance(flow_raw["payload"], str)
            and flow_raw["payload"].startswith("/")
        ):
            flow = Flow(flow_raw["title"], flow_raw["payload"])
        else:
            errors.append(f"{where}: flow must be {{title: <button text>, payload: /<intent>}}")
    policy_specific = raw.get("policy_specific")
    if not isinstance(policy_specific, bool):
        errors.append(f"{where}: policy_specific must be true or false")
        policy_specific = False
    return Entry(
        id=entry_id,
        topic=topic,
        topic_title=topic_title,
        title=title.strip(),
        questions=tuple(q.strip() for q in questions),
        answer=_clean(answer),
        source=source,
        flow=flow,
        policy_specific=policy_specific,
        file=file,
    )


def topic_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.yml") if p.name != SOURCES_FILE)


def _read_entries(directory: Path, errors: list[str]) -> list[Entry]:
    entries: list[Entry] = []
    files = topic_files(directory)
    if not files:
        errors.append(f"{directory}: no topic files (*.yml)")
    for path in files:
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            errors.append(f"{path.name}: not valid YAML: {exc}")
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("entries"), list):
            errors.append(f"{path.name}: must be a mapping with topic, title and a list of entries")
            continue
        topic, topic_title = doc.get("topic"), doc.get("title")
        if topic != path.stem:
            errors.append(f"{path.name}: topic {topic!r} must equal the file name {path.stem!r}")
        if not isinstance(topic_title, str) or not topic_title:
            errors.append(f"{path.name}: title (the topic's Chinese name) is missing")
            topic_title = str(topic)
        for i, raw in enumerate(doc["entries"]):
            entry = _parse_entry(raw, f"{path.name} entry {i + 1}", path.stem, topic_title, path.name, errors)
            if entry is not None:
                entries.append(entry)
    seen: dict[str, str] = {}
    for entry in entries:
        if entry.id in seen:
            errors.append(f"{entry.file} [{entry.id}]: id already used in {seen[entry.id]}")
        seen.setdefault(entry.id, entry.file)
    return entries


def load_entries(directory: Path) -> list[Entry]:
    """Read every topic file; raise KnowledgeError listing all structural problems."""
    errors: list[str] = []
    entries = _read_entries(directory, errors)
    if errors:
        raise KnowledgeError(errors)
    return entries


def domain_intents(domain_path: Path) -> set[str]:
    doc = yaml.safe_load(domain_path.read_text(encoding="utf-8"))
    return {i if isinstance(i, str) else next(iter(i)) for i in doc.get("intents", [])}


def validate_knowledge(
    directory: Path, *, domain_path: Path, seeds_dir: Path | None = None, min_entries: int = MIN_ENTRIES
) -> tuple[list[Entry], list[str]]:
    """Every rule of data/knowledge/README.md; returns the entries and the list of problems."""
    errors: list[str] = []
    entries = _read_entries(directory, errors)
    intents = domain_intents(domain_path)
    manifest_path = directory / SOURCES_FILE
    seeds: set[str] = set()
    if manifest_path.exists():
        seeds = set((yaml.safe_load(manifest_path.read_text(encoding="utf-8")) or {}).get("seeds") or {})
    else:
        errors.append(f"{SOURCES_FILE}: the seed manifest is missing")
    if seeds_dir is not None and seeds_dir.is_dir():
        for name in sorted(seeds):
            if not (seeds_dir / name).is_file():
                errors.append(f"{SOURCES_FILE}: seed {name} is not in {seeds_dir}")
    if len(entries) < min_entries:
        errors.append(f"only {len(entries)} entries; at least {min_entries} are required")
    owner: dict[str, str] = {}
    for e in entries:
        where = f"{e.file} [{e.id}]"
        if e.source.file is not None and e.source.file not in seeds:
            errors.append(f"{where}: source file {e.source.file!r} is not a seed listed in {SOURCES_FILE}")
        if e.flow is not None and e.flow.intent not in intents:
            errors.append(f"{where}: flow payload {e.flow.payload!r} names no intent of domain.yml")
        texts = [("title", e.title), ("answer", e.answer), *(("question", q) for q in e.questions)]
        if e.flow is not None:
            texts.append(("flow title", e.flow.title))
        for kind, text in texts:
            bad = _HALF_WIDTH_RE.search(text)
            if bad:
                errors.append(
                    f"{where}: half-width {bad.group()!r} in the {kind} {text!r}; use ，？：；！（）"
                )
        if "你" in e.answer:
            errors.append(f"{where}: the answer addresses the customer as 你; use 您")
        if _POLICY_DATA_RE.search(e.answer):
            errors.append(f"{where}: the answer contains a placeholder or policy data")
        if e.policy_specific and "核实身份" not in e.answer:
            errors.append(f"{where}: policy_specific answers offer a look-up after verification (核实身份)")
        for q in e.questions:
            key = normalize_question(q)
            if key in owner and owner[key] != e.id:
                errors.append(f"{where}: question {q!r} is also in entry {owner[key]}")
            owner.setdefault(key, e.id)
    return entries, errors

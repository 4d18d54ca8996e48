"""The document catalog (材料清单): which documents each claim type and policy service needs.

The data lives in ``documents.yml`` beside this module; it is read once, validated and cached.
Nothing here touches the database.

    >>> [d.code for d in claim_requirements("motor", police_reported=False)][:2]
    ['claim_application', 'accident_statement']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "FORMS",
    "CatalogEntry",
    "CatalogError",
    "DocumentCatalog",
    "DocumentSpec",
    "UnknownCatalogKey",
    "claim_requirements",
    "entry",
    "format_checklist_zh",
    "get_catalog",
    "load_catalog",
    "missing_documents",
    "resolve_business_type",
    "service_requirements",
]

FORMS: dict[str, str] = {
    "original": "原件",
    "copy": "复印件",
    "photo": "照片",
    "either": "原件或复印件",
}
TEAMS = ("claims", "policy_service", "renewals", "customer_service")
CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
CATALOG_FILE = "documents.yml"


class CatalogError(ValueError):
    """The catalog YAML is malformed; the message names the offending place."""


class UnknownCatalogKey(KeyError):
    """No catalog entry has this key (claim type or service)."""

    def __str__(self) -> str:
        return f"no catalog entry for {self.args[0]!r}"


@dataclass(frozen=True)
class DocumentSpec:
    code: str
    name: str
    form: str
    required: bool = True
    condition: str | None = None  # e.g. "police_reported" or "not police_reported"
    note: str | None = None
    condition_label: str | None = None  # Chinese, e.g. "已报警"

    @property
    def form_zh(self) -> str:
        return FORMS[self.form]

    @property
    def label(self) -> str:
        return f"{self.name}({self.form_zh})"


@dataclass(frozen=True)
class CatalogEntry:
    key: str
    kind: str  # "claim" or "service"
    title: str
    timeline: str
    next_steps: str
    documents: tuple[DocumentSpec, ...]
    team: str = "claims"

    def requirements(self, conditions: Mapping[str, bool | None] | None = None) -> list[DocumentSpec]:
        """The documents for these circumstances.

        A conditional document is dropped when its condition is known to be false, kept as
        specified when it is true, and kept but optional ("如适用") while the condition is unknown.
        """
        conditions = conditions or {}
        out: list[DocumentSpec] = []
        for doc in self.documents:
            if doc.condition is None:
                out.append(doc)
                continue
            negated = doc.condition.startswith("not ")
            name = doc.condition[4:] if negated else doc.condition
            value = conditions.get(name)
            if value is None:
                out.append(replace(doc, required=False))
            elif bool(value) != negated:
                out.append(doc)
        return out


@dataclass(frozen=True)
class DocumentCatalog:
    claims: dict[str, CatalogEntry]
    services: dict[str, CatalogEntry]
    business_types: dict[str, str]  # canonical Chinese value -> key
    aliases: dict[str, str]  # further wordings -> key
    conditions: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (label, negated)

    def entry(self, key: str) -> CatalogEntry:
        key = _key_of(key)
        found = self.claims.get(key) or self.services.get(key)
        if found is None:
            resolved = self.resolve(key)
            found = (self.claims.get(resolved) or self.services.get(resolved)) if resolved else None
        if found is None:
            raise UnknownCatalogKey(key)
        return found

    def resolve(self, text: str) -> str | None:
        """A catalog key for an entity value, a key, a title or a phrase containing one."""
        value = re.sub(r"\s+", "", str(text or "")).strip()
        if not value:
            return None
        lowered = value.lower()
        if lowered in self.claims or lowered in self.services:
            return lowered
        for table in (self.business_types, self.aliases):
            if value in table:
                return table[value]
        for entry_ in (*self.claims.values(), *self.services.values()):
            if value == entry_.title:
                return entry_.key
        # Longest known wording inside the text ("我想办理犹豫期退保" -> cooling_off_cancellation).
        best: tuple[int, str] | None = None
        for table in (self.business_types, self.aliases):
            for word, key in table.items():
                if word in value and (best is None or len(word) > best[0]):
                    best = (len(word), key)
        return best[1] if best else None


# ---------------------------------------------------------------- loading and validation


def _key_of(value: Any) -> str:
    return str(getattr(value, "value", value))


def _fail(where: str, message: str) -> CatalogError:
    return CatalogError(f"document catalog, {where}: {message}")


def _text(raw: Mapping[str, Any], name: str, where: str, *, optional: bool = False) -> str | None:
    value = raw.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, f"'{name}' must be a non-empty string")
    return value.strip()


def _parse_document(raw: Any, where: str, conditions: Mapping[str, tuple[str, str]]) -> DocumentSpec:
    if not isinstance(raw, dict):
        raise _fail(where, "a document must be a mapping")
    unknown = set(raw) - {"code", "name", "form", "required", "condition", "note"}
    if unknown:
        raise _fail(where, f"unknown field(s) {sorted(unknown)}")
    code = _text(raw, "code", where)
    assert code is not None
    if not CODE_RE.match(code):
        raise _fail(where, f"code {code!r} is not snake_case")
    form = raw.get("form")
    if form not in FORMS:
        raise _fail(where, f"unknown form {form!r} of {code!r} (expected one of {', '.join(FORMS)})")
    required = raw.get("required", True)
    if not isinstance(required, bool):
        raise _fail(where, f"'required' of {code!r} must be true or false")
    condition = _text(raw, "condition", where, optional=True)
    label = None
    if condition is not None:
        name = condition[4:].strip() if condition.startswith("not ") else condition
        if name not in conditions:
            raise _fail(where, f"unknown condition {condition!r} of {code!r}")
        label = conditions[name][0] if name == condition else conditions[name][1]
    return DocumentSpec(
        code=code,
        name=_text(raw, "name", where) or code,
        form=form,
        required=required,
        condition=condition,
        note=_text(raw, "note", where, optional=True),
        condition_label=label,
    )


def _parse_entries(raw: Any, kind: str, conditions: Mapping[str, tuple[str, str]]) -> dict[str, CatalogEntry]:
    section = "claims" if kind == "claim" else "services"
    if not isinstance(raw, dict) or not raw:
        raise _fail(section, "must be a non-empty mapping")
    entries: dict[str, CatalogEntry] = {}
    for key, body in raw.items():
        where = f"{section}.{key}"
        if not isinstance(key, str) or not CODE_RE.match(key):
            raise _fail(where, "entry keys must be snake_case")
        if not isinstance(body, dict):
            raise _fail(where, "an entry must be a mapping")
        docs_raw = body.get("documents")
        if not isinstance(docs_raw, list) or not docs_raw:
            raise _fail(where, "'documents' must be a non-empty list")
        docs: list[DocumentSpec] = []
        seen: set[str] = set()
        for i, doc_raw in enumerate(docs_raw):
            doc = _parse_document(doc_raw, f"{where}.documents[{i}]", conditions)
            if doc.code in seen:
                raise _fail(f"{where}.documents[{i}]", f"duplicate code {doc.code!r}")
            seen.add(doc.code)
            docs.append(doc)
        if not any(d.required and d.condition is None for d in docs):
            raise _fail(where, "needs at least one unconditionally required document")
        team = body.get("team", "claims")
        if team not in TEAMS:
            raise _fail(where, f"unknown team {team!r}")
        entries[key] = CatalogEntry(
            key=key,
            kind=kind,
            title=_text(body, "title", where) or key,
            timeline=_text(body, "timeline", where) or "",
            next_steps=_text(body, "next_steps", where) or "",
            documents=tuple(docs),
            team=team,
        )
    return entries


def parse_catalog(data: Any) -> DocumentCatalog:
    """Validate the loaded YAML and build the catalog; raises CatalogError with the place."""
    if not isinstance(data, dict):
        raise _fail("top level", "must be a mapping")
    conditions_raw = data.get("conditions") or {}
    if not isinstance(conditions_raw, dict):
        raise _fail("conditions", "must be a mapping")
    conditions: dict[str, tuple[str, str]] = {}
    for name, labels in conditions_raw.items():
        if not isinstance(labels, dict) or not all(
            isinstance(labels.get(k), str) and labels[k] for k in ("label", "negated")
        ):
            raise _fail(f"conditions.{name}", "needs a Chinese 'label' and 'negated' label")
        conditions[str(name)] = (labels["label"], labels["negated"])
    claims = _parse_entries(data.get("claims"), "claim", conditions)
    services = _parse_entries(data.get("services"), "service", conditions)
    clash = set(claims) & set(services)
    if clash:
        raise _fail("services", f"key(s) {sorted(clash)} also used by claims")
    # One code means one document everywhere: the same code must keep its name and form.
    by_code: dict[str, tuple[str, DocumentSpec]] = {}
    for entry_ in (*claims.values(), *services.values()):
        for doc in entry_.documents:
            first = by_code.setdefault(doc.code, (entry_.key, doc))
            if first[1].form != doc.form:
                raise _fail(
                    f"{entry_.kind}s.{entry_.key}",
                    f"code {doc.code!r} has form {doc.form!r} here but {first[1].form!r} in {first[0]!r}",
                )
    tables: dict[str, dict[str, str]] = {}
    for name in ("business_types", "aliases"):
        table = data.get(name) or {}
        if not isinstance(table, dict):
            raise _fail(name, "must be a mapping")
        for word, key in table.items():
            if key not in claims and key not in services:
                raise _fail(f"{name}.{word}", f"points to unknown entry {key!r}")
        tables[name] = {str(k): str(v) for k, v in table.items()}
    return DocumentCatalog(
        claims=claims,
        services=services,
        business_types=tables["business_types"],
        aliases=tables["aliases"],
        conditions=dict(conditions),
    )


def load_catalog(source: str | Path | None = None) -> DocumentCatalog:
    """Load a catalog: the packaged ``documents.yml`` by default, or a path / YAML text."""
    if source is None:
        text = resources.files(__name__).joinpath(CATALOG_FILE).read_text(encoding="utf-8")
        origin = CATALOG_FILE
    elif isinstance(source, Path):
        text = source.read_text(encoding="utf-8")
        origin = str(source)
    else:
        text, origin = source, "<text>"
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CatalogError(f"document catalog {origin}: invalid YAML: {exc}") from exc
    return parse_catalog(data)


@lru_cache(maxsize=1)
def get_catalog() -> DocumentCatalog:
    """The packaged catalog, read and validated once."""
    return load_catalog()


# ---------------------------------------------------------------- the API other modules call


def entry(key: str) -> CatalogEntry:
    """The entry of a claim type or a service (key, ClaimType/TicketType, or Chinese wording)."""
    return get_catalog().entry(key)


def resolve_business_type(text: str) -> str | None:
    """The catalog key for a business_type / claim_type entity value (or a phrase with one)."""
    return get_catalog().resolve(text)


def _conditions(
    police_reported: bool | None, conditions: Mapping[str, bool | None]
) -> dict[str, bool | None]:
    known = get_catalog().conditions
    unknown = set(conditions) - set(known)
    if unknown:
        raise ValueError(f"unknown document condition(s): {sorted(unknown)}")
    merged: dict[str, bool | None] = dict(conditions)
    if police_reported is not None or "police_reported" not in merged:
        merged["police_reported"] = police_reported
    return merged


def claim_requirements(
    claim_type: str, *, police_reported: bool | None = None, **conditions: bool | None
) -> list[DocumentSpec]:
    """The documents a claim of this type needs.

    ``claim_type`` is a ClaimType (or its value) or a Chinese claim-type word (车险/医疗/...).
    Conditions left unknown (None) keep their documents as optional ("如适用")."""
    catalog = get_catalog()
    key = _key_of(claim_type)
    found = catalog.claims.get(key)
    if found is None:
        resolved = catalog.resolve(key)
        found = catalog.claims.get(resolved) if resolved else None
    if found is None:
        raise UnknownCatalogKey(key)
    return found.requirements(_conditions(police_reported, conditions))


def service_requirements(service: str, **conditions: bool | None) -> list[DocumentSpec]:
    """The documents a policy service needs (key, TicketType value or Chinese business type)."""
    catalog = get_catalog()
    key = _key_of(service)
    found = catalog.services.get(key)
    if found is None:
        resolved = catalog.resolve(key)
        found = catalog.services.get(resolved) if resolved else None
    if found is None:
        raise UnknownCatalogKey(key)
    return found.requirements(_conditions(None, conditions))


def missing_documents(
    requirements: Iterable[DocumentSpec], received_codes: Iterable[str]
) -> list[DocumentSpec]:
    """The required documents not yet received (optional ones are never 'missing')."""
    received = set(received_codes)
    return [d for d in requirements if d.required and d.code not in received]


def format_checklist_zh(
    requirements: Iterable[DocumentSpec], received_codes: Iterable[str] = frozenset()
) -> str:
    """A Chinese checklist, one document a line: ✔ received, □ still to send.

    ``□ 医疗费用发票(原件)—发票需为原件,加盖医院收费章``; optional documents say so, and a
    closing line counts the required documents received."""
    received = set(received_codes)
    docs = list(requirements)
    lines: list[str] = []
    for doc in docs:
        mark = "✔" if doc.code in received else "□"
        details = [doc.form_zh]
        if not doc.required:
            details.append(f"如{doc.condition_label}" if doc.condition_label else "选交")
        elif doc.condition_label:
            details.append(f"{doc.condition_label}时提供")
        line = f"{mark} {doc.name}({','.join(details)})"
        if doc.note:
            line += f"—{doc.note}"
        lines.append(line)
    required = [d for d in docs if d.required]
    have = sum(1 for d in required if d.code in received)
    if required and have == len(required):
        lines.append(f"必交材料{len(required)}项已全部收到。")
    elif required:
        lines.append(f"必交材料共{len(required)}项,已收到{have}项,还差{len(required) - have}项。")
    return "\n".join(lines)

"""Answering general questions from the knowledge base, fully offline.

Two scores per entry, each the best over the entry's questions (a question is indexed together with
the entry's title):
- BM25 (``bm25s``) over jieba words (the project's insurance user dictionary loaded, so 犹豫期 or
  减额交清 stay one word), squashed into 0..1 by ``s / (s + BM25_HALF)``;
- the cosine of character 2- and 3-gram TF-IDF vectors, which survives typos and word-boundary
  mistakes.
The combined score ``W_NGRAM * ngram + (1 - W_NGRAM) * bm25`` decides: at least ``ANSWER_THRESHOLD``
gives the entry's answer; at least ``CLARIFY_THRESHOLD`` a clarifying question with the two best
topics; lower, nothing (the caller hands over to a human). The thresholds are calibrated on
tests/services/knowledge_heldout.yml (see bench/bench_knowledge.py --calibrate).

Answers are general: none contains data of a customer's policy; ``policy_specific`` entries say so
and the caller offers a look-up after verification.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import bm25s
import jieba

from bot.config import PROJECT_ROOT, get_settings
from bot.services.knowledge.base import Entry, Flow, Source, load_entries

USER_DICT = PROJECT_ROOT / "nlu_components" / "jieba_userdict" / "insurance.txt"

W_NGRAM = 0.5
W_ENTRY = 0.5  # weight of the whole-entry document against the best single question
BM25_HALF = 3.0
ANSWER_THRESHOLD = 0.36
CLARIFY_THRESHOLD = 0.26

_DROP_RE = re.compile(r"[\s\W_]+", re.UNICODE)
# Words that carry no topic (BM25's idf would mostly discount them; dropping them keeps queries short).
_STOPWORD_TEXT = """
    的 了 吗 呢 啊 吧 呀 哦 嘛 么 是 我 你 您 他 她 们 我们 你们 请问 请 问 一下 下 想 要 能 可以 会
    有 没有 怎么 怎么办 怎样 什么 如何 就 还 也 都 在 和 跟 这 那 这个 那个 个 一个 问问 咨询
    谢谢 麻烦 帮 帮我 给 把 被 让 吧 啦 呗
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class KnowledgeAnswer:
    """A confident match: the entry's answer, its source and, where a flow exists, its button."""

    entry: Entry
    score: float

    @property
    def text(self) -> str:
        return self.entry.answer

    @property
    def source(self) -> Source:
        return self.entry.source

    @property
    def button(self) -> Button | None:
        flow: Flow | None = self.entry.flow
        return Button(flow.title, flow.payload) if flow else None

    @property
    def policy_specific(self) -> bool:
        return self.entry.policy_specific


@dataclass(frozen=True)
class Clarify:
    """Not sure: ask which of the best topics the customer means (buttons resend a canonical question)."""

    options: tuple[tuple[Entry, float], ...]

    text = "抱歉，我不太确定您想了解的是哪一项，请您选择最接近的问题，或者换个说法再问一次："

    @property
    def buttons(self) -> tuple[Button, ...]:
        return tuple(Button(entry.title, entry.questions[0]) for entry, _ in self.options)


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def char_ngrams(text: str, sizes: tuple[int, ...] = (2, 3)) -> Counter[str]:
    s = _DROP_RE.sub("", normalize(text))
    grams: Counter[str] = Counter()
    for n in sizes:
        grams.update(s[i : i + n] for i in range(len(s) - n + 1))
    if not grams and s:
        grams[s] = 1
    return grams


_jieba_lock = threading.Lock()


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    with _jieba_lock:
        tk = jieba.Tokenizer()
        tk.initialize()
        if USER_DICT.exists():
            tk.load_userdict(str(USER_DICT))
        return tk


def words(text: str) -> list[str]:
    out = []
    for w in _tokenizer().lcut(normalize(text)):
        w = _DROP_RE.sub("", w)
        if w and w not in STOPWORDS:
            out.append(w)
    return out


class KnowledgeIndex:
    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self.doc_entry: list[int] = []
        docs: list[str] = []
        for i, e in enumerate(entries):
            for q in e.questions:
                docs.append(f"{q} {e.title}")
                self.doc_entry.append(i)
        self.n_question_docs = len(docs)
        # One more document per entry: its title, all its questions and its answer (the wider context).
        for i, e in enumerate(entries):
            docs.append(" ".join((e.title, *e.questions, e.answer)))
            self.doc_entry.append(i)
        self.bm25 = bm25s.BM25()
        self.bm25.index([words(d) or [""] for d in docs], show_progress=False)
        # Character n-grams: TF-IDF vectors, an inverted index for the dot products.
        grams = [char_ngrams(d) for d in docs]
        df: Counter[str] = Counter()
        for g in grams:
            df.update(g.keys())
        n_docs = len(docs)
        self.idf = {g: math.log((1 + n_docs) / (1 + c)) + 1.0 for g, c in df.items()}
        self.default_idf = math.log(1 + n_docs) + 1.0
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.norms: list[float] = []
        for d, g in enumerate(grams):
            weights = {k: (1 + math.log(v)) * self.idf[k] for k, v in g.items()}
            self.norms.append(math.sqrt(sum(w * w for w in weights.values())) or 1.0)
            for k, w in weights.items():
                self.postings[k].append((d, w))

    def ngram_scores(self, text: str) -> list[float]:
        """Cosine of the query against every indexed question (character 2–3-grams, TF-IDF)."""
        q = char_ngrams(text)
        weights = {k: (1 + math.log(v)) * self.idf.get(k, self.default_idf) for k, v in q.items()}
        q_norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        dots = [0.0] * len(self.norms)
        for k, w in weights.items():
            for d, dw in self.postings.get(k, ()):
                dots[d] += w * dw
        return [dot / (q_norm * self.norms[d]) for d, dot in enumerate(dots)]

    def bm25_scores(self, text: str) -> list[float]:
        tokens = words(text)
        if not tokens:
            return [0.0] * len(self.doc_entry)
        raw = self.bm25.get_scores(tokens)
        return [float(s) / (float(s) + BM25_HALF) for s in raw]

    def rank(self, text: str, *, w_ngram: float = W_NGRAM, parts: str = "both") -> list[tuple[int, float]]:
        """Entries by combined score, best first (``parts``: both / ngram / bm25, for the benchmark)."""
        ng = self.ngram_scores(text) if parts != "bm25" else None
        bm = self.bm25_scores(text) if parts != "ngram" else None

        def doc_score(d: int) -> float:
            if ng is not None and bm is not None:
                return w_ngram * ng[d] + (1 - w_ngram) * bm[d]
            return (ng if ng is not None else bm or [0.0] * (d + 1))[d]

        best: dict[int, float] = {}
        for d in range(self.n_question_docs):
            i = self.doc_entry[d]
            best[i] = max(best.get(i, 0.0), doc_score(d))
        n = self.n_question_docs
        combined = {i: (1 - W_ENTRY) * s + W_ENTRY * doc_score(n + i) for i, s in best.items()}
        return sorted(combined.items(), key=lambda kv: kv[1], reverse=True)

    def top_topics(self, text: str, k: int = 2) -> list[tuple[Entry, float]]:
        """The k best entries, each from a different topic where possible (for the clarifying question)."""
        ranked = self.rank(text)
        picked: list[tuple[Entry, float]] = []
        topics: set[str] = set()
        for i, s in ranked:
            if self.entries[i].topic not in topics:
                picked.append((self.entries[i], s))
                topics.add(self.entries[i].topic)
            if len(picked) == k:
                return picked
        for i, s in ranked:  # fewer topics than k: fill with the next best entries
            if len(picked) == k:
                break
            if all(self.entries[i] is not e for e, _ in picked):
                picked.append((self.entries[i], s))
        return picked

    def answer(
        self,
        text: str,
        *,
        answer_threshold: float = ANSWER_THRESHOLD,
        clarify_threshold: float = CLARIFY_THRESHOLD,
    ) -> KnowledgeAnswer | Clarify | None:
        if not text or not text.strip():
            return None
        ranked = self.rank(text)
        if not ranked:
            return None
        i, score = ranked[0]
        if score >= answer_threshold:
            return KnowledgeAnswer(self.entries[i], score)
        if score >= clarify_threshold:
            return Clarify(tuple(self.top_topics(text, k=2)))
        return None


_index_lock = threading.Lock()
_indexes: dict[Path, KnowledgeIndex] = {}


def get_index(directory: Path | None = None) -> KnowledgeIndex:
    """The index of ``directory`` (default: the ``knowledge_dir`` setting), built once per process."""
    path = (directory or get_settings().knowledge_dir).resolve()
    with _index_lock:
        if path not in _indexes:
            _indexes[path] = KnowledgeIndex(load_entries(path))
        return _indexes[path]


def answer(text: str) -> KnowledgeAnswer | Clarify | None:
    """Answer a general question from the knowledge base (see the module docstring)."""
    return get_index().answer(text)


def top_topics(text: str, k: int = 2) -> list[tuple[Entry, float]]:
    return get_index().top_topics(text, k)

"""General questions answered from the knowledge base in data/knowledge/ (offline retrieval)."""

from bot.services.knowledge.base import (
    Entry,
    Flow,
    KnowledgeError,
    Source,
    load_entries,
    validate_knowledge,
)
from bot.services.knowledge.retrieval import (
    Button,
    Clarify,
    KnowledgeAnswer,
    KnowledgeIndex,
    answer,
    get_index,
    top_topics,
)

__all__ = [
    "Button",
    "Clarify",
    "Entry",
    "Flow",
    "KnowledgeAnswer",
    "KnowledgeError",
    "KnowledgeIndex",
    "Source",
    "answer",
    "get_index",
    "load_entries",
    "top_topics",
    "validate_knowledge",
]

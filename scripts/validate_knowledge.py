"""Check the knowledge base (data/knowledge/) against the rules of its README; exit 1 with every problem.

Run by scripts/test.sh before pytest. Usage: python scripts/validate_knowledge.py [dir]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.services.knowledge.base import validate_knowledge  # noqa: E402


def main(argv: list[str]) -> int:
    directory = Path(argv[1]) if len(argv) > 1 else ROOT / "data" / "knowledge"
    seeds = Path(os.environ.get("KNOWLEDGE_SEEDS_DIR", ROOT.parent / "shared" / "seeds"))
    entries, errors = validate_knowledge(directory, domain_path=ROOT / "domain.yml", seeds_dir=seeds)
    if errors:
        print(f"knowledge base {directory}: {len(errors)} problem(s):", file=sys.stderr)
        for e in errors:
            print(f"  - {e}", file=sys.stderr)
        return 1
    topics: dict[str, int] = {}
    for e in entries:
        topics[e.topic] = topics.get(e.topic, 0) + 1
    summary = ", ".join(f"{t} {n}" for t, n in sorted(topics.items()))
    print(f"knowledge base OK: {len(entries)} entries ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

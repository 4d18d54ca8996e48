"""Intent accuracy on customer phrasings the model was never trained on.

Cross-validation scores wording that resembles the training data; this checks the model against
sentences written separately (bench/data/unseen_phrasings.yml, never copied into data/nlu).
It also fails if any of them appears verbatim in the training data.

Run with the Rasa environment's python, after a training:

    .venv-rasa/bin/python bench/nlu_unseen.py [--model models/assistant.tar.gz]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the model's custom components (nlu_components/)
PHRASINGS = ROOT / "bench" / "data" / "unseen_phrasings.yml"


def training_texts() -> set[str]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(ROOT / "data" / "nlu"))
    return {str(m.get("text")).strip() for m in data.intent_examples}


async def evaluate(model: Path) -> int:
    from rasa.core.agent import Agent

    cases: dict[str, list[str]] = yaml.safe_load(PHRASINGS.read_text(encoding="utf-8"))
    leaked = sorted(t for texts in cases.values() for t in texts if t.strip() in training_texts())
    if leaked:
        print("these phrasings are in the training data, so they are not unseen:", *leaked, sep="\n  ")
        return 2
    agent = Agent.load(str(model))
    hits: Counter[str] = Counter()
    totals: Counter[str] = Counter()
    misses: list[str] = []
    for intent, texts in cases.items():
        for text in texts:
            parsed = await agent.parse_message(text)
            got = parsed["intent"]["name"]
            confidence = parsed["intent"].get("confidence") or 0.0
            totals[intent] += 1
            if got == intent:
                hits[intent] += 1
            else:
                misses.append(f"  {text!r}: expected {intent}, got {got} ({confidence:.2f})")
    total, correct = sum(totals.values()), sum(hits.values())
    print(f"unseen customer phrasings: {correct}/{total} intents right ({correct / total:.1%})")
    if misses:
        print("misses:", *misses, sep="\n")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "assistant.tar.gz")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    import structlog  # Rasa's own structured log prints every parse at debug level

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    return asyncio.run(evaluate(args.model))


if __name__ == "__main__":
    sys.exit(main())

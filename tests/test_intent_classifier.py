"""The custom intent classifier (nlu_components/intent_classifier.py) trained, stored through
Rasa's model storage and loaded back, in the Rasa environment."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
CHECK = ROOT / "tests" / "rasa_env" / "check_intent_classifier.py"


@pytest.mark.skipif(not RASA_PYTHON.exists(), reason="needs .venv-rasa (make venv)")
def test_a_stored_and_reloaded_classifier_ranks_the_right_intent_first():
    # "骗子公司" shares no word with the complain examples: only the lookup table's entry "骗子"
    # links it to them, and that link must survive storing and loading
    queries = ["您好呀", "昨天出车祸了 要报案", "下期保费几号扣", "骗子公司"]
    run = subprocess.run(
        [str(RASA_PYTHON), str(CHECK), *queries],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    results = json.loads(run.stdout.strip().splitlines()[-1])
    assert [r["intent"]["name"] for r in results] == ["greet", "report_claim", "ask_premium_due", "complain"]
    for result in results:
        ranking = result["ranking"]
        # a probability distribution, best first, led by the predicted intent
        assert ranking[0] == result["intent"]
        assert [r["confidence"] for r in ranking] == sorted((r["confidence"] for r in ranking), reverse=True)
        assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-6

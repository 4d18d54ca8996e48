"""`rasa data validate`, strict: any warning fails, except an utterance that a custom action
sends (``response="utter_x"`` in actions/), which the validator cannot see in stories or rules.

Run with the Rasa environment's python: .venv-rasa/bin/python scripts/validate_data.py
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNUSED_UTTERANCE = re.compile(r"The utterance '([a-z0-9_]+)' is not used in any story or rule")
WARNING = re.compile(r"UserWarning: (.*)")
# Bot-initiated intents (trigger_intent) have no customer examples by design.
EXTERNAL_NOT_IN_NLU = re.compile(
    r"The intent 'EXTERNAL_[a-z0-9_]+' is listed in the domain file, but is not found in the NLU"
)


def utterances_sent_by_actions() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "actions").rglob("*.py"):
        names.update(re.findall(r"""["'](utter_[a-z0-9_]+)["']""", path.read_text(encoding="utf-8")))
    return names


def form_questions() -> set[str]:
    """``utter_ask_<slot>`` / ``utter_ask_<form>_<slot>`` of form slots: the form asks them itself."""
    import yaml

    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    names: set[str] = set()
    for form, spec in (domain.get("forms") or {}).items():
        for slot in (spec or {}).get("required_slots") or []:
            # utter_help_<slot>: BaseFormValidation sends it after two invalid tries.
            names.update({f"utter_ask_{slot}", f"utter_ask_{form}_{slot}", f"utter_help_{slot}"})
    # utter_error_<code>: actions.common.utter_error sends it for a DomainError's code.
    names.update(r for r in (domain.get("responses") or {}) if r.startswith("utter_error_"))
    return names


def main() -> int:
    proc = subprocess.run(
        [
            str(ROOT / ".venv-rasa/bin/rasa"),
            "data",
            "validate",
            "--domain",
            "domain.yml",
            "--data",
            "data",
            "--config",
            "config.yml",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    output = proc.stdout + proc.stderr
    allowed = utterances_sent_by_actions() | form_questions()
    problems = []
    for line in output.splitlines():
        m = WARNING.search(line)
        if not m:
            continue
        text = m.group(1)
        if EXTERNAL_NOT_IN_NLU.search(text):
            continue
        unused = UNUSED_UTTERANCE.search(text)
        if unused and unused.group(1) in allowed:
            continue
        problems.append(text)
    if proc.returncode != 0:
        print(output[-4000:])
        print(f"rasa data validate failed (exit {proc.returncode})")
        return 1
    if problems:
        print("rasa data validate reported:")
        for p in problems:
            print("  -", p)
        return 1
    print(f"rasa data validate: clean ({len(allowed)} responses are sent by custom actions)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

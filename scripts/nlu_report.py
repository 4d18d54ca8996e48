"""Cross-validated quality report of the NLU, with the project's targets.

Run with the Rasa environment's python (``make nlu-report``):

    .venv-rasa/bin/python scripts/nlu_report.py [--folds 5] [--out results/nlu-cv] [--no-run]

It runs ``rasa test nlu --cross-validation --folds 5`` on data/nlu with config.yml, writes Rasa's
reports into results/nlu-cv/ (gitignored), prints intent macro-F1 and entity micro-F1 beside
the targets and exits 1 if a target is missed (2 if Rasa itself failed).

Entity F1, combined: the pipeline has two entity extractors and Rasa scores each one on
every entity label, so neither report alone says how good the assistant's entities are:
RegexEntityExtractor never predicts free-text labels (names, dates, ...), and DIET's guesses
for the structured numbers are not what the forms rely on. The combined figure routes each
label to the extractor that is responsible for it in this project: the labels that have a
regex in data/nlu/patterns.yml (policy, claim and ticket numbers, ID, mobile and plate
numbers, and the closed list of business names, business_type) are scored from
RegexEntityExtractor's report, every other label from DIETClassifier's. Per label, Rasa's
token-level report gives support, precision and recall; from them we recover true positives
(recall x support), false negatives (support - TP) and false positives (TP / precision - TP),
sum those counts over all labels and compute micro
precision, recall and F1. DIET's own micro-F1 over all labels is printed for reference.

Intent macro-F1 is the mean F1 of the intents in the data (see intent_macro_f1). Rasa's
evaluation undoes FallbackClassifier's nlu_fallback and scores the intent it replaced
(rasa/nlu/test.py, "Revert fallback prediction"), so the figure is the intent classifier's own
and the fallback thresholds in config.yml do not move it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TARGET_INTENT_MACRO_F1 = 0.93
TARGET_ENTITY_F1 = 0.90
DIET = "DIETClassifier"
REGEX = "RegexEntityExtractor"
AVERAGES = {"micro avg", "macro avg", "weighted avg", "accuracy"}


@dataclass
class EntityScore:
    precision: float
    recall: float
    f1: float
    support: int
    notes: list[str]


def regex_entity_names(nlu_dir: Path) -> set[str]:
    """Names of the regexes in the NLU data: those entities are RegexEntityExtractor's job."""
    names: set[str] = set()
    for path in sorted(nlu_dir.glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        names.update(item["regex"] for item in doc.get("nlu") or [] if "regex" in item)
    return names


def rasa_executable() -> str:
    """The `rasa` script beside the running interpreter (this must run in the Rasa env)."""
    candidate = Path(sys.executable).parent / "rasa"
    if candidate.exists():
        return str(candidate)
    fallback = ROOT / ".venv-rasa" / "bin" / "rasa"
    if fallback.exists():
        return str(fallback)
    sys.exit("rasa not found: run this with the Rasa environment's python (.venv-rasa/bin/python)")


def load_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def intent_macro_f1(report: dict) -> float:
    """Mean F1 over the intents that occur in the data.

    Rasa's own "macro avg" also averages labels that were only ever predicted (support 0,
    F1 0), such as an intent a fold's model predicts but the data never has.
    """
    rows = [v for k, v in report.items() if k not in AVERAGES and isinstance(v, dict) and v["support"] > 0]
    return sum(float(v["f1-score"]) for v in rows) / len(rows)


def weak_intents(report: dict, below: float) -> list[tuple[str, float, int]]:
    rows = [
        (name, float(v["f1-score"]), int(v["support"]))
        for name, v in report.items()
        if name not in AVERAGES and isinstance(v, dict) and v["support"] > 0
    ]
    return sorted((r for r in rows if r[1] < below), key=lambda r: r[1])


def _counts(row: dict) -> tuple[float, float, float, bool]:
    """(TP, FP, FN, exact) of one label of a token-level sklearn report."""
    support = float(row["support"])
    tp = float(row["recall"]) * support
    precision = float(row["precision"])
    if precision > 0:
        fp = tp / precision - tp
        exact = True
    else:  # no true positive: sklearn reports 0 both for "no prediction" and "all wrong"
        fp = 0.0
        exact = tp == 0 and support == 0
    return tp, fp, support - tp, exact


def _micro(tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def combined_entity_score(reports: dict[str, dict], regex_labels: set[str]) -> EntityScore:
    """Micro P/R/F1 over all labels, each label scored by its responsible extractor."""
    labels: set[str] = set()
    for report in reports.values():
        labels.update(k for k, v in report.items() if k not in AVERAGES and isinstance(v, dict))
    tp = fp = fn = 0.0
    notes: list[str] = []
    for label in sorted(labels):
        extractor = REGEX if label in regex_labels and REGEX in reports else DIET
        row = reports.get(extractor, {}).get(label)
        if row is None:  # the responsible extractor has no row: count the label as missed
            support = max(int(r.get(label, {}).get("support", 0)) for r in reports.values())
            fn += support
            notes.append(f"{label}: no {extractor} row, {support} tokens counted as missed")
            continue
        t, p, n, exact = _counts(row)
        if not exact:
            notes.append(f"{label}: {extractor} found none; its false positives are unknown (taken as 0)")
        tp, fp, fn = tp + t, fp + p, fn + n
    precision, recall, f1 = _micro(tp, fp, fn)
    return EntityScore(precision, recall, f1, round(tp + fn), notes)


def extractor_micro_f1(report: dict) -> float | None:
    row = report.get("micro avg")
    return float(row["f1-score"]) if row else None


def run_cross_validation(out: Path, folds: int) -> float:
    out.mkdir(parents=True, exist_ok=True)
    cmd = [
        rasa_executable(), "test", "nlu", "--nlu", "data/nlu", "--config", "config.yml",
        "--cross-validation", "--folds", str(folds), "--out", str(out),
    ]  # fmt: skip
    print("$", " ".join(cmd), flush=True)
    started = time.monotonic()
    log = out / "rasa-test.log"
    with log.open("w", encoding="utf-8") as fh:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, check=False)
    elapsed = time.monotonic() - started
    if proc.returncode != 0:
        print(log.read_text(encoding="utf-8")[-3000:], file=sys.stderr)
        print(f"rasa test nlu failed with exit code {proc.returncode} (log: {log})", file=sys.stderr)
        sys.exit(2)
    return elapsed


def summarise(out: Path, regex_labels: set[str]) -> tuple[float, EntityScore, dict[str, dict]]:
    """Intent macro-F1, combined entity score and the raw entity reports found in `out`."""
    intent_report = load_json(out / "intent_report.json")
    entity_reports = {
        name: load_json(out / f"{name}_report.json")
        for name in (DIET, REGEX)
        if (out / f"{name}_report.json").exists()
    }
    return intent_macro_f1(intent_report), combined_entity_score(entity_reports, regex_labels), entity_reports


def top_confusions(out: Path, limit: int = 12) -> list[tuple[str, str, int]]:
    path = out / "intent_errors.json"
    if not path.exists():
        return []
    pairs: dict[tuple[str, str], int] = {}
    for err in load_json(path):
        key = (err["intent"], err["intent_prediction"]["name"])
        pairs[key] = pairs.get(key, 0) + 1
    return sorted(((a, b, n) for (a, b), n in pairs.items()), key=lambda r: -r[2])[:limit]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "nlu-cv")
    parser.add_argument("--no-run", action="store_true", help="only read the reports already in --out")
    args = parser.parse_args(argv)
    out = args.out if args.out.is_absolute() else ROOT / args.out

    if not args.no_run:
        elapsed = run_cross_validation(out, args.folds)
        print(f"cross-validation ({args.folds} folds) took {elapsed / 60:.1f} min")

    regex_labels = regex_entity_names(ROOT / "data" / "nlu")
    intent_f1, entity, reports = summarise(out, regex_labels)

    print(f"\nNLU cross-validation report ({out})")
    for intent, f1, support in weak_intents(load_json(out / "intent_report.json"), TARGET_INTENT_MACRO_F1):
        print(f"  weak intent  {intent:24s} F1 {f1:.3f}  (n={support})")
    for gold, predicted, n in top_confusions(out):
        print(f"  confusion    {gold:24s} -> {predicted:24s} x{n}")
    rasa_macro = load_json(out / "intent_report.json")["macro avg"]["f1-score"]
    print(f"  Rasa's intent macro avg, incl. predicted-only labels, reference: {rasa_macro:.3f}")
    for name, report in reports.items():
        micro = extractor_micro_f1(report)
        if micro is not None:
            print(f"  {name} micro-F1 over all labels (reference): {micro:.3f}")
    for note in entity.notes:
        print(f"  note: {note}")

    intent_ok = intent_f1 >= TARGET_INTENT_MACRO_F1
    entity_ok = entity.f1 >= TARGET_ENTITY_F1
    verdict = {True: "OK", False: "MISSED"}
    print(
        f"\nintent macro-F1   {intent_f1:.3f}  target >= {TARGET_INTENT_MACRO_F1:.2f}  {verdict[intent_ok]}"
    )
    print(
        f"entity micro-F1   {entity.f1:.3f}  target >= {TARGET_ENTITY_F1:.2f}  {verdict[entity_ok]}"
        f"  (P {entity.precision:.3f} R {entity.recall:.3f}, {entity.support} entity tokens;"
        f" {', '.join(sorted(regex_labels))} from {REGEX}, the rest from {DIET})"
    )
    return 0 if intent_ok and entity_ok else 1


if __name__ == "__main__":
    sys.exit(main())

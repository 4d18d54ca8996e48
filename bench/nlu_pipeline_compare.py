"""The project's NLU pipeline against Rasa's default one, on the same data and the same split.

Run with the Rasa environment's python (it needs rasa, unlike the bench_*.py of `make bench`):

    .venv-rasa/bin/python bench/nlu_pipeline_compare.py [--seed 42] [--fraction 0.8]

Both pipelines are trained in this run on the same 80 % of data/nlu (``rasa data split nlu``
with a fixed seed, stratified per intent) and tested on the same held-out 20 %. The baseline is
the pipeline `rasa init` writes into config.yml (WhitespaceTokenizer ... DIETClassifier 100
epochs, EntitySynonymMapper, ResponseSelector, FallbackClassifier), with `language: en` as
`rasa init` writes it: Rasa refuses WhitespaceTokenizer for `zh`. Scores are computed exactly
as scripts/nlu_report.py does (intent macro-F1; entity micro-F1 with the regex labels taken
from RegexEntityExtractor where the pipeline has one, from DIET otherwise). Everything is
written under results/bench-nlu/ (gitignored).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "results" / "bench-nlu"

DEFAULT_CONFIG = """\
# The pipeline `rasa init` (Rasa 3.6) writes into config.yml, made explicit.
recipe: default.v1
assistant_id: bench-default-pipeline
language: en
pipeline:
  - name: WhitespaceTokenizer
  - name: RegexFeaturizer
  - name: LexicalSyntacticFeaturizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
    epochs: 100
    constrain_similarities: true
  - name: EntitySynonymMapper
  - name: ResponseSelector
    epochs: 100
    constrain_similarities: true
  - name: FallbackClassifier
    threshold: 0.3
    ambiguity_threshold: 0.1
"""


def _load_report_module():
    spec = importlib.util.spec_from_file_location("nlu_report", ROOT / "scripts" / "nlu_report.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["nlu_report"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def run(cmd: list[str], log: Path) -> float:
    print("$", " ".join(str(c) for c in cmd), flush=True)
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as fh:
        proc = subprocess.run(cmd, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT, check=False)
    if proc.returncode != 0:
        print(log.read_text(encoding="utf-8")[-3000:], file=sys.stderr)
        sys.exit(f"failed ({proc.returncode}): {' '.join(str(c) for c in cmd)}")
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--fraction", type=float, default=0.8)
    parser.add_argument("--reuse", action="store_true", help="reuse models trained by an earlier run")
    args = parser.parse_args(argv)

    report = _load_report_module()
    rasa = report.rasa_executable()
    OUT.mkdir(parents=True, exist_ok=True)
    split = OUT / "split"
    run(
        [rasa, "data", "split", "nlu", "--nlu", "data/nlu", "--training-fraction", str(args.fraction),
         "--random-seed", str(args.seed), "--out", str(split)],
        OUT / "split.log",
    )  # fmt: skip
    train_file, test_file = split / "training_data.yml", split / "test_data.yml"
    default_config = OUT / "config-default.yml"
    default_config.write_text(DEFAULT_CONFIG, encoding="utf-8")
    regex_labels = report.regex_entity_names(ROOT / "data" / "nlu")

    rows = {}
    for name, config in (("project", ROOT / "config.yml"), ("rasa-default", default_config)):
        model_dir, test_out = OUT / "models", OUT / f"test-{name}"
        seconds_file = OUT / f"train-{name}.seconds"
        if args.reuse and (model_dir / f"{name}.tar.gz").exists() and seconds_file.exists():
            train_seconds = float(seconds_file.read_text())
        else:
            train_seconds = run(
                [rasa, "train", "nlu", "--nlu", str(train_file), "--config", str(config),
                 "--out", str(model_dir), "--fixed-model-name", name],
                OUT / f"train-{name}.log",
            )  # fmt: skip
            seconds_file.write_text(f"{train_seconds:.1f}")
        run(
            [rasa, "test", "nlu", "--nlu", str(test_file), "--model", str(model_dir / f"{name}.tar.gz"),
             "--out", str(test_out), "--no-plot"],
            OUT / f"test-{name}.log",
        )  # fmt: skip
        intent_f1, entity, _ = report.summarise(test_out, regex_labels)
        rows[name] = (intent_f1, entity.f1, train_seconds)

    (pi, pe, pt), (di, de, dt) = rows["project"], rows["rasa-default"]

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}x" if b else "n/a (baseline 0)"

    print(f"\nheld-out split: {int(args.fraction * 100)}/{100 - int(args.fraction * 100)}, seed {args.seed}")
    print(f"{'':22s}{'project':>10s}{'rasa default':>14s}{'ratio':>18s}")
    print(f"{'intent macro-F1':22s}{pi:10.3f}{di:14.3f}{ratio(pi, di):>18s}")
    print(f"{'entity micro-F1':22s}{pe:10.3f}{de:14.3f}{ratio(pe, de):>18s}")
    print(f"{'training time (s)':22s}{pt:10.0f}{dt:14.0f}{ratio(pt, dt):>18s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

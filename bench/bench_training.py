"""Training time of the whole Rasa project (NLU + dialogue), next to a baseline measured in the
same run: Rasa's own default pipeline and policies (what `rasa init` writes) on the same data.

Target: the project trains in at most 5 minutes on this 2-core machine.

    .venv/bin/python bench/bench_training.py            # both trainings, into a temp folder
    .venv/bin/python bench/bench_training.py --skip-baseline
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
TARGET_SECONDS = 300


def _default_nlu_config() -> str:
    """The pipeline `rasa init` writes, shared with bench/nlu_pipeline_compare.py. Its language is
    `en`: Rasa refuses the WhitespaceTokenizer for `zh`."""
    spec = importlib.util.spec_from_file_location(
        "nlu_pipeline_compare", ROOT / "bench" / "nlu_pipeline_compare.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.DEFAULT_CONFIG)


DEFAULT_POLICIES = """
policies:
  - name: MemoizationPolicy
  - name: RulePolicy
  - name: UnexpecTEDIntentPolicy
    max_history: 5
    epochs: 100
  - name: TEDPolicy
    max_history: 5
    epochs: 100
    constrain_similarities: true
"""


def train(config: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        [
            str(RASA),
            "train",
            "--domain",
            "domain.yml",
            "--config",
            str(config),
            "--data",
            "data",
            "--out",
            str(out),
            "--force",
            "--quiet",
        ],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        project = train(ROOT / "config.yml", tmpdir / "project")
        print(f"project config.yml          : {project:7.1f} s (target ≤ {TARGET_SECONDS} s)")
        if not args.skip_baseline:
            cfg = tmpdir / "default_config.yml"
            cfg.write_text(_default_nlu_config() + DEFAULT_POLICIES, encoding="utf-8")
            baseline = train(cfg, tmpdir / "baseline")
            print(f"baseline (rasa init config) : {baseline:7.1f} s")
            print(f"ratio project / baseline    : {project / baseline:7.2f}")
    ok = project <= TARGET_SECONDS
    print("target met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

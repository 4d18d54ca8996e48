# The README's two commands are `make run` and `make test`.
.PHONY: run test check lint types venv train nlu-report bench seed clean

run:            ## set up both environments, migrate, seed, train if needed, start every process
	@bash scripts/run.sh

test:           ## the whole test suite
	@bash scripts/test.sh

venv:           ## create or update .venv and .venv-rasa
	@bash scripts/setup-envs.sh

lint: venv
	.venv/bin/ruff check bot actions nlu_components rasa_addons tests bench scripts migrations
	.venv/bin/ruff format --check bot actions nlu_components rasa_addons tests bench scripts migrations

types: venv
	.venv/bin/mypy

check: lint types test  ## lint, types and tests

train: venv     ## train the Rasa model (FORCE_TRAIN=1 to train even when nothing changed)
	@bash scripts/train-if-changed.sh

nlu-report: venv  ## 5-fold cross-validation of the NLU, with the quality targets
	.venv-rasa/bin/python scripts/nlu_report.py

bench: venv     ## every benchmark in bench/
	@for b in bench/bench_*.py; do echo "== $$b"; .venv/bin/python $$b || exit 1; done

seed: venv      ## load demo data into DATABASE_URL (when empty)
	.venv/bin/python -m bot seed

clean:
	rm -rf results .pytest_cache .mypy_cache .ruff_cache

#!/usr/bin/env bash
# Train the Rasa model when data/, domain.yml, config.yml or the custom NLU components
# (nlu_components/: code and jieba dictionary) changed since the last training;
# otherwise keep the model in models/. The fingerprint is stored beside the model.
set -euo pipefail
cd "$(dirname "$0")/.."
fingerprint=$( (find data -type f -name '*.yml' | LC_ALL=C sort | xargs cat; cat domain.yml config.yml;
  find nlu_components -type f \( -name '*.py' -o -name '*.txt' \) | LC_ALL=C sort | xargs cat) | sha256sum | cut -c1-16)
latest=$(ls -t models/*.tar.gz 2>/dev/null | head -1 || true)
if [ -n "$latest" ] && [ "$(cat models/.fingerprint 2>/dev/null)" = "$fingerprint" ] && [ "${FORCE_TRAIN:-0}" != 1 ]; then
  echo "==> Rasa model is up to date ($latest)"
  exit 0
fi
echo "==> training the Rasa model (data, domain, config or NLU components changed)"
mkdir -p models
start=$(date +%s)
.venv-rasa/bin/rasa train --domain domain.yml --config config.yml --data data --out models --fixed-model-name assistant --quiet
echo "$fingerprint" > models/.fingerprint
echo "==> trained in $(( $(date +%s) - start )) s: models/assistant.tar.gz"

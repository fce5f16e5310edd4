#!/usr/bin/env bash
# Reproduce both shipped models (detector + classifier) with fixed seeds, plus LOSO evaluation,
# and regenerate model.json / MODEL_CARD.md.  ~45 min on 2 CPU cores.
#   training/models/train_all.sh            # full run -> models/{detector,classifier}/1.0.0
#   training/models/train_all.sh --smoke OUT_DIR   # CI smoke test (< 2 min)
# Needs Debian python3-torch/torchvision/onnx/pil/numpy (/usr/bin/python3) and the face-api weights
# (npm i @vladmandic/face-api in /tmp/faceapi, or FACEAPI_MODEL_DIR=<.../face-api/model>).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${PYTHON:-/usr/bin/python3}"
if [[ "${1:-}" == "--smoke" ]]; then
  OUT="${2:-$HERE/runs/smoke-models}"
  "$PY" "$HERE/train.py" --smoke --out "$OUT"
  "$PY" "$HERE/make_cards.py" --models "$OUT"
  exit 0
fi
RUN="full-$(date +%Y%m%d-%H%M%S)"
"$PY" "$HERE/train.py" --all --run "$RUN" "$@"
"$PY" "$HERE/make_cards.py" --models "$HERE/../../models"

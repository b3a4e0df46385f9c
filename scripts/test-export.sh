#!/usr/bin/env bash
# Runs the exporter tests (export/tests): every exporter at a small random
# config, checked against PyTorch through munit-eval forward and against the
# model contracts through munit-eval inspect.
#
# Uses Debian's python3 packages with /usr/bin/python3 (PyPI is not assumed).
# When torch, torchvision, onnx, yaml, numpy, PIL or scipy are missing it installs
# them with apt-get (Debian 12: about 155 MB to download, 660 MB on disk,
# under a minute on a fast mirror). Then it fetches the onnxruntime library
# (scripts/setup-ort.sh), builds bin/munit-eval and runs the tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
PY=${PYTHON:-/usr/bin/python3}
PKGS="python3-torch python3-torchvision python3-onnx python3-yaml python3-numpy python3-pil python3-scipy"

if ! "$PY" -c 'import torch, torchvision, onnx, yaml, numpy, PIL, scipy' 2>/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    echo "test-export: $PY lacks torch/torchvision/onnx/yaml/numpy/PIL/scipy and apt-get needs root: install $PKGS" >&2
    exit 1
  fi
  echo "test-export: installing $PKGS with apt-get" >&2
  start=$(date +%s)
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
  echo "test-export: apt-get took $(( $(date +%s) - start ))s" >&2
  "$PY" -c 'import torch, torchvision, onnx, yaml, numpy, PIL, scipy'
fi

bash scripts/setup-ort.sh
go build -o bin/munit-eval ./cmd/munit-eval
export MUNIT_EVAL="$root/bin/munit-eval"
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the checkout
exec "$PY" -m unittest discover -s export/tests -t . "$@"

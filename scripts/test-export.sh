#!/usr/bin/env bash
# Runs the exporter tests (export/tests): every exporter at a small random
# config, checked against PyTorch through munit-eval forward and against the
# model contracts through munit-eval inspect.
#
# Uses Debian's python3 packages with /usr/bin/python3 (PyPI is not assumed).
# scripts/python-deps.sh installs torch, torchvision, onnx, yaml, numpy, PIL
# and scipy with apt-get when they are missing. Then it fetches the onnxruntime library
# (scripts/setup-ort.sh), builds bin/munit-eval and runs the tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
PY=${PYTHON:-/usr/bin/python3}
bash scripts/python-deps.sh

bash scripts/setup-ort.sh
go build -o bin/munit-eval ./cmd/munit-eval
export MUNIT_EVAL="$root/bin/munit-eval"
export PYTHONDONTWRITEBYTECODE=1  # no __pycache__ in the checkout
exec "$PY" -m unittest discover -s export/tests -t . "$@"

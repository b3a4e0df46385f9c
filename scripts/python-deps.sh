#!/usr/bin/env bash
# Makes sure /usr/bin/python3 (or $PYTHON) has what the exporters need:
# Debian's torch, torchvision, onnx, yaml, numpy, PIL and scipy (PyPI is not assumed).
# Installs the missing ones with apt-get (Debian 12: about 155 MB to download,
# 660 MB on disk); a no-op when they import.
set -euo pipefail
PY=${PYTHON:-/usr/bin/python3}
PKGS="python3-torch python3-torchvision python3-onnx python3-yaml python3-numpy python3-pil python3-scipy"
if "$PY" -c 'import torch, torchvision, onnx, yaml, numpy, PIL, scipy' 2>/dev/null; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
  echo "python-deps: $PY lacks torch/torchvision/onnx/yaml/numpy/PIL/scipy and apt-get needs root: install $PKGS" >&2
  exit 1
fi
echo "python-deps: installing $PKGS with apt-get" >&2
start=$(date +%s)
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
echo "python-deps: apt-get took $(( $(date +%s) - start ))s" >&2
"$PY" -c 'import torch, torchvision, onnx, yaml, numpy, PIL, scipy'

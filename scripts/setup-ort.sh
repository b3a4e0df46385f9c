#!/usr/bin/env bash
# Fetches the onnxruntime shared library that munit-eval loads at run time.
# It comes from the npm package onnxruntime-node@1.30.0 (the only registry
# that ships a prebuilt library here), is checked against a pinned SHA-256,
# and lands in .cache/onnxruntime/. Does nothing when it is already there.
#
# It also installs Debian's OpenBLAS (libopenblas0-pthread) when it is
# missing and this runs as root or with sudo: FID and KID load it with
# dlopen at run time (internal/blasdl) and fall back to gonum's pure-Go
# kernels, several times slower at D = 2048, without it. Optional: any
# failure here only prints a note.
set -euo pipefail

have_openblas() {
  { /sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null || true; } | grep -q 'libopenblas\.so\.0'
}
if ! have_openblas; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-ort: OpenBLAS (libopenblas.so.0) not found and no apt-get: FID/KID use gonum's slower pure-Go BLAS" >&2
  elif [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null 2>&1; then
    echo "setup-ort: OpenBLAS not found and I cannot install it (not root): apt-get install libopenblas0-pthread for faster FID/KID" >&2
  else
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    echo "setup-ort: installing libopenblas0-pthread (Debian package) for FID/KID" >&2
    if ! { $sudo apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libopenblas0-pthread >/dev/null; }; then
      echo "setup-ort: installing libopenblas0-pthread failed: FID/KID use gonum's slower pure-Go BLAS" >&2
    fi
  fi
fi

ORT_VERSION=1.30.0
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.cache/onnxruntime"
lib="$dest/libonnxruntime.so.1"

case "$(uname -m)" in
  x86_64|amd64) arch=x64; want=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23 ;;
  aarch64|arm64) arch=arm64; want=1f549d46250b005580b597f4164984aaf75b3bcb9f3aeb07c7f8a8fe60b23c76 ;;
  *) echo "setup-ort: no onnxruntime build for $(uname -m) in onnxruntime-node@$ORT_VERSION" >&2; exit 1 ;;
esac

if [ -f "$lib" ] && [ "$(sha256sum "$lib" | cut -d' ' -f1)" = "$want" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "setup-ort: npm is needed to fetch onnxruntime-node@$ORT_VERSION (apt-get install npm)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "setup-ort: fetching onnxruntime $ORT_VERSION ($arch) from npm package onnxruntime-node" >&2
(cd "$tmp" && npm pack --silent "onnxruntime-node@$ORT_VERSION" >/dev/null)
tar -xzf "$tmp/onnxruntime-node-$ORT_VERSION.tgz" -C "$tmp" "package/bin/napi-v6/linux/$arch/libonnxruntime.so.1"
got=$(sha256sum "$tmp/package/bin/napi-v6/linux/$arch/libonnxruntime.so.1" | cut -d' ' -f1)
if [ "$got" != "$want" ]; then
  echo "setup-ort: SHA-256 mismatch for libonnxruntime.so.1: got $got, want $want" >&2
  exit 1
fi
mkdir -p "$dest"
mv "$tmp/package/bin/napi-v6/linux/$arch/libonnxruntime.so.1" "$lib.tmp"
mv "$lib.tmp" "$lib"
echo "setup-ort: installed $lib" >&2

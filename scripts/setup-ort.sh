#!/usr/bin/env bash
# Fetches the onnxruntime shared library that munit-eval loads at run time.
# It comes from the npm package onnxruntime-node@1.30.0 (the only registry
# that ships a prebuilt library here), is checked against a pinned SHA-256,
# and lands in .cache/onnxruntime/. Does nothing when it is already there.
set -euo pipefail
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

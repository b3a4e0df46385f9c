#!/usr/bin/env bash
# Installs the Debian packages munit-eval's tests use: headless Chromium for
# the browser tests of the AMT study page and the HTML report. A no-op when
# they are already there.
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null; then
  echo "test-deps: chromium is missing and I cannot install it (not root); browser tests will skip" >&2
  exit 0
fi
sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
echo "test-deps: installing chromium (Debian package) for the browser tests" >&2
$sudo apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium fonts-dejavu-core >/dev/null

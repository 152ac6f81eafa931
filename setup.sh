#!/usr/bin/env bash
# Sets up docketwatch on a Debian machine: the Debian packages it needs, then a virtualenv in
# .venv with docketwatch and its development tools. Safe to run again: it installs only what is
# missing and reinstalls the Python packages only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")"

# chromium: the browser Playwright drives (Playwright's own download cannot be used).
# chromium-headless-shell: the same Chromium without a browser's windows, launched for headless
#   lookups and the tests' pages (a third of the CPU of the headless browser).
# xvfb: a virtual display for the headed browser the real ACIS requires.
# postgresql, redis-server: servers the tests start themselves when none is running.
# python3-venv: virtualenvs on a stock Debian Python.
# libpango-1.0-0, libpangoft2-1.0-0, fonts-dejavu-core: WeasyPrint's text layout and a font,
#   for the PDF reports.
# prometheus: its promtool checks the alerting rules in deploy/prometheus (the tests).
# unzip: Info-ZIP, which reads Deflate64: the tests' independent reader of FOIA releases, and
#   the benchmark's reference for inflating them.
DEBIAN_PACKAGES=(chromium chromium-headless-shell xvfb postgresql redis-server python3-venv ca-certificates unzip libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core prometheus)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"setup: docketwatch needs Python 3.11 or newer, found {sys.version.split()[0]}")
PY

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.docketwatch-installed
want=$(cat pyproject.toml requirements-dev.lock | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  # Every package at the version and hash the lock file pins (deploy/lock remakes it), then
  # docketwatch itself without resolving anything again.
  echo "setup: installing the locked packages and docketwatch into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q --require-hashes -r requirements-dev.lock
  .venv/bin/python -m pip install -q --no-deps -e .
  .venv/bin/python -m storage.lockfile check  # the lock still matches pyproject.toml
  echo "$want" > "$stamp"
fi
# The project's own bytecode, compiled once here: every docketwatch process (the service, each
# crawl, the CLI) then skips compiling its modules at start, also where PYTHONDONTWRITEBYTECODE
# is set or the checkout is read-only for the service's user. Quick when nothing changed.
.venv/bin/python -m compileall -q -j 0 cli checks monitor spiders storage web sandbox bench tests \
  scheduler.py >/dev/null
echo "setup: ready (.venv/bin/docketwatch --help)"

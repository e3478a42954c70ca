#!/usr/bin/env bash
# Installs and starts what the test suite needs, idempotently: Chromium for
# browser tests and the pinned npm packages (real SDKs, analytics-next).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if ((${#need_apt[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "test-env: need Debian packages ${need_apt[*]}; run as root or install them" >&2
    exit 1
  fi
  echo "test-env: installing ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  # npm install, not npm ci: it installs exactly what package-lock.json pins,
  # but tolerates the optional native add-ons of other platforms that the
  # lock cannot list.
  echo "test-env: npm install (from package-lock.json)"
  npm install --no-audit --no-fund --loglevel=error
fi

#!/usr/bin/env bash
# Installs and starts what the test suite needs, idempotently: Chromium for
# browser tests, the pinned npm packages (real SDKs, analytics-next) and a
# PostgreSQL server for the store/postgres tests.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# A running server needs nothing installed, wherever it came from.
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
  need_apt+=(postgresql)
fi
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

# PostgreSQL for the store/postgres tests (MOSAIC_TEST_POSTGRES_URL, which the
# Makefile sets): a server on 127.0.0.1:5432 where user postgres connects
# over TCP without a password (trust), and a database named test in it.
pg_host=(-h 127.0.0.1 -p 5432 -U postgres -w)

# pg_version prints the newest installed PostgreSQL major version.
pg_version() {
  ls /usr/lib/postgresql | sort -V | tail -n 1
}

# pg_start starts the cluster "main" of the newest version, creating it if
# there is none, and waits until it accepts connections.
pg_start() {
  local ver
  ver=$(pg_version)
  if [[ ! -d /etc/postgresql/$ver/main ]]; then
    echo "test-env: creating PostgreSQL $ver cluster main"
    pg_createcluster --port 5432 "$ver" main >/dev/null
  fi
  echo "test-env: starting PostgreSQL $ver cluster main"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start
  for _ in $(seq 60); do
    pg_isready -q -h 127.0.0.1 -p 5432 && return 0
    sleep 0.5
  done
  echo "test-env: PostgreSQL did not start on 127.0.0.1:5432; see /var/log/postgresql" >&2
  exit 1
}

# pg_trust lets user postgres connect over TCP from 127.0.0.1 without a
# password: the first matching line of pg_hba.conf decides, so it goes first.
pg_trust() {
  local ver hba
  ver=$(pg_version)
  hba=/etc/postgresql/$ver/main/pg_hba.conf
  echo "test-env: trusting user postgres from 127.0.0.1 in $hba"
  sed -i '1i host all postgres 127.0.0.1/32 trust  # added by scripts/test-env.sh for tests' "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main reload
}

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "test-env: no PostgreSQL on 127.0.0.1:5432; run as root to start one, or start it yourself" >&2
    exit 1
  fi
  pg_start
fi
if ! psql "${pg_host[@]}" -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "test-env: user postgres cannot connect to 127.0.0.1:5432 without a password; run as root to allow it" >&2
    exit 1
  fi
  pg_trust
fi
if [[ -z $(psql "${pg_host[@]}" -d postgres -Atqc "SELECT 1 FROM pg_database WHERE datname = 'test'") ]]; then
  echo "test-env: creating PostgreSQL database test"
  psql "${pg_host[@]}" -d postgres -qc 'CREATE DATABASE test'
fi

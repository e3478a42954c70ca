#!/usr/bin/env bash
# Runs every fuzz target of the module for a short time each (default 10s).
#
# A real finding writes its input to testdata/fuzz and fails. Go's fuzzing
# coordinator can also fail a target with a bare "context deadline
# exceeded" when -fuzztime ends while a worker is busy (a race in the
# toolchain, seen on loaded machines): such a run wrote no input, so the
# target's corpus is replayed instead, deterministically, and only a
# failure of that replay fails the run.
set -uo pipefail
cd "$(dirname "$0")/.."
budget=${1:-10s}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz: $pkg $target ($budget)"
    if go test -run '^$' -fuzz "^${target}\$" -fuzztime "$budget" "$pkg" 2>&1 | tee "$log"; then
      continue
    fi
    if grep -q 'context deadline exceeded' "$log" && ! grep -qE 'Failing input written|panic:|fuzz_test.go:[0-9]+:|_test.go:[0-9]+: ' "$log"; then
      echo "fuzz: $target stopped with the toolchain's deadline race and wrote no input; replaying its corpus"
      if go test -count=1 -run "^${target}\$" "$pkg"; then
        continue
      fi
    fi
    status=1
    echo "fuzz: $pkg $target FAILED"
  done
done
exit $status

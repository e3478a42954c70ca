#!/usr/bin/env bash
# Copies Segment's browser library (@segment/analytics-next, the version pinned
# in package.json) from node_modules into ajs/assets, where package ajs embeds
# it. The copied files are committed, so building Mosaic needs no npm; run
# this script only to move to another version of the library:
#
#   1. change the version in package.json,
#   2. npm install   (refreshes package-lock.json; see .npmrc),
#   3. scripts/vendor-analytics-next.sh,
#   4. go test ./ajs/   (the browser test loads the new copy),
#   5. commit package.json, package-lock.json and ajs/assets together.
#
# What is copied: dist/umd/standalone.js (served as analytics.min.js), every
# webpack chunk dist/umd/*.bundle.*.js it may load, the package's license and
# a VERSION file. Source maps and the package's .gz copies are left out:
# Mosaic compresses on the fly.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pkg="$root/node_modules/@segment/analytics-next"
dest="$root/ajs/assets"

want="$(node -p 'require(process.argv[1]).devDependencies["@segment/analytics-next"]' "$root/package.json")"
have=""
if [[ -f "$pkg/package.json" ]]; then
	have="$(node -p 'require(process.argv[1]).version' "$pkg/package.json")"
fi
if [[ "$have" != "$want" ]]; then
	echo "node_modules has @segment/analytics-next '${have:-none}', package.json pins '$want'; running npm install" >&2
	(cd "$root" && npm install --no-audit --no-fund)
	have="$(node -p 'require(process.argv[1]).version' "$pkg/package.json")"
	if [[ "$have" != "$want" ]]; then
		echo "npm install gave @segment/analytics-next $have, want $want: check package.json and package-lock.json" >&2
		exit 1
	fi
fi

umd="$pkg/dist/umd"
shopt -s nullglob
chunks=("$umd"/*.bundle.*.js)
if [[ ! -f "$umd/standalone.js" || ${#chunks[@]} -eq 0 ]]; then
	echo "$umd lacks standalone.js or *.bundle.*.js chunks: the package layout changed; update this script and package ajs" >&2
	exit 1
fi

# Replace the whole folder so chunks of an older version (their names carry a
# content hash) do not linger.
rm -rf "$dest"
mkdir -p "$dest"
cp "$umd/standalone.js" "${chunks[@]}" "$dest/"
cp "$pkg/LICENSE.MD" "$dest/LICENSE"
echo "$want" >"$dest/VERSION"

echo "vendored @segment/analytics-next $want into ajs/assets:"
(cd "$dest" && ls -l --time-style=+ | awk 'NR > 1 { printf "  %-48s %8d bytes\n", $NF, $5 }')

#!/usr/bin/env bash
# bench-audiences.sh creates, on a running server, the 50 audiences of mixed
# kinds the audience benchmarks use (the segment package's BenchmarkObserve
# set, written for the synthetic journeys of 'mosaic-load run -journeys'):
# traits with windowed order counts, windowed revenue sums, a windowed
# computed trait with consent, filtered product views without a recent
# order, and a plan or a birthday within 7 days. Ten of each kind.
#
#   MOSAIC_ADMIN_TOKEN=... scripts/bench-audiences.sh http://127.0.0.1:8080 [path/to/mosaic]
set -euo pipefail
server=${1:?give the server URL, e.g. http://127.0.0.1:8080}
mosaic=${2:-bin/mosaic}
: "${MOSAIC_ADMIN_TOKEN:?set MOSAIC_ADMIN_TOKEN to the admin token of the server}"
"$mosaic" audiences traits create orders_30d --event "Order Completed" --agg count --within 30d --server "$server"
countries=(NL US DE BE GB)
plans=(free plus pro)
categories=(Shoes Apparel Bags Camping Accessories Electronics)
for i in $(seq 0 9); do
	create() { "$mosaic" audiences create "$1" --server "$server" --where "$2" >/dev/null; }
	create "a${i}_country_orders" "trait country = \"${countries[i % 5]}\" and count(event \"Order Completed\" within $((7 + i))d) >= 2"
	create "a${i}_revenue" "sum(revenue of event \"Order Completed\" within 30d) > $((50 + 10 * i))"
	create "a${i}_computed_consent" "computed orders_30d >= $((1 + i % 3)) and consent marketing"
	create "a${i}_viewed_not_bought" "count(event \"Product Viewed\" where category = \"${categories[i % 6]}\" within 24h) >= 1 and not count(event \"Order Completed\" within 7d) >= 1"
	create "a${i}_plan_birthday" "trait plan = \"${plans[i % 3]}\" or birthday within 7d"
done
"$mosaic" audiences list --server "$server" | wc -l | xargs printf 'audiences listed: %s lines\n'

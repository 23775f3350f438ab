#!/usr/bin/env bash
# Checkout throughput on this machine: payment page GET req/s (wrk) and complete payments/s
# over HTTP (bench/checkout/load.rs), against a release `kassa demo`.
#
#   bench/checkout/run.sh sqlite|postgres [seconds]
#
# Needs wrk (apt-get install wrk) and curl; PostgreSQL at $BENCH_PG
# (default postgres://postgres@127.0.0.1:5432/postgres) for the postgres run.
set -euo pipefail
backend=${1:-sqlite}
seconds=${2:-10}
cd "$(dirname "$0")/../.."
CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-1} cargo build --release --bin kassa --example checkout_load

dir=$(mktemp -d)
port=${BENCH_PORT:-18080}
pg_base=${BENCH_PG:-postgres://postgres@127.0.0.1:5432/postgres}
db_name="kassa_bench_$$"
case "$backend" in
  sqlite) database_url="sqlite://$dir/kassa.db" ;;
  postgres)
    psql "$pg_base" -qc "CREATE DATABASE $db_name"
    database_url="${pg_base%/*}/$db_name" ;;
  *) echo "usage: $0 sqlite|postgres [seconds]" >&2; exit 2 ;;
esac

KASSA_DATABASE_URL="$database_url" KASSA_LISTEN="127.0.0.1:$port" KASSA_DATA_DIR="$dir" KASSA_LOG=warn \
  target/release/kassa demo >"$dir/kassa.log" 2>&1 &
kassa_pid=$!
cleanup() {
  kill "$kassa_pid" 2>/dev/null || true
  wait "$kassa_pid" 2>/dev/null || true
  if [ "$backend" = postgres ]; then psql "$pg_base" -qc "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -fs "$base/health" >/dev/null && break; sleep 0.2; done

# One order's card page, the page a customer loads.
page=$(curl -s -o /dev/null -w '%{redirect_url}' \
  -d 'Merchant_ID=679471&OrderNumber=bench-page&OrderAmount=10.00&CardPayment=1&Lastname=A&Firstname=B&Email=a@b.example' \
  "$base/pay/order.cfm")
echo "== $backend: payment page GET ($page)"
wrk -t2 -c64 -d"${seconds}s" --latency "$page" | grep -E "Requests/sec|Latency|99%|50%|Non-2xx"

echo "== $backend: complete payments (entry + page + charge)"
target/release/examples/checkout_load "$base" 32 "$seconds"

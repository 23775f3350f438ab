#!/usr/bin/env bash
# Requests per second and p99 of the two hottest machine reads, with many orders in the
# database:
#   - POST /orderstate/orderstate.cfm (Format=3, XML) by Billnumber, Login/Password auth;
#   - GET  /api/v1/orders/{billnumber} with an API key.
#
# Usage: bench/webservices/run.sh [sqlite|postgres]
# Environment:
#   ORDERS        orders to seed (default 1000000)
#   DURATION      seconds per wrk run (default 15)
#   CONNECTIONS   wrk connections (default 32)
#   PG_URL        PostgreSQL server for the postgres run (default postgres://postgres@127.0.0.1:5432/postgres)
#   BENCH_KASSA_BIN     the kassa binary (default target/release/kassa; built if missing)
# Needs: wrk (apt install wrk), sqlite3 / psql, sha256sum, curl.
set -euo pipefail

BACKEND=${1:-sqlite}
ORDERS=${ORDERS:-1000000}
DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-32}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH_KASSA_BIN=${BENCH_KASSA_BIN:-$ROOT/target/release/kassa}
PORT=${PORT:-18480}
WORK=$(mktemp -d /tmp/kassa-bench-ws.XXXXXX)
PID=

cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    if [ "$BACKEND" = postgres ] && [ -n "${PG_DB:-}" ]; then
        psql "$PG_URL" -q -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

[ -x "$BENCH_KASSA_BIN" ] || (cd "$ROOT" && cargo build --release)

case "$BACKEND" in
    sqlite) DB_URL="sqlite://$WORK/kassa.db" ;;
    postgres)
        PG_DB="kassa_bench_ws_$$"
        psql "$PG_URL" -q -c "CREATE DATABASE $PG_DB" >/dev/null
        DB_URL="${PG_URL%/*}/$PG_DB"
        ;;
    *) echo "usage: $0 [sqlite|postgres]" >&2; exit 2 ;;
esac

export KASSA_DATABASE_URL=$DB_URL KASSA_DATA_DIR=$WORK KASSA_LISTEN=127.0.0.1:$PORT \
    KASSA_RATE_LIMIT_PER_MINUTE=0 KASSA_LOG=warn KASSA_POOL_SIZE=16

# `kassa demo` creates merchant 679471 and demo_manager (web-services right), then serves.
"$BENCH_KASSA_BIN" demo >"$WORK/kassa.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/health" >/dev/null && break
    sleep 0.2
done
curl -fs "http://127.0.0.1:$PORT/health" >/dev/null || { cat "$WORK/kassa.log"; exit 1; }

API_KEY="kassa_$(printf '%064d' 7)"
KEY_HASH=$(printf '%s' "$API_KEY" | sha256sum | cut -d' ' -f1)

sql() {
    if [ "$BACKEND" = sqlite ]; then sqlite3 -cmd '.timeout 30000' "$WORK/kassa.db" "$1"; else psql "$DB_URL" -q -t -A -c "$1"; fi
}

MERCHANT=$(sql "SELECT id FROM merchants WHERE merchant_number = 679471")
echo "seeding $ORDERS orders ($BACKEND)…"
start=$(date +%s)
if [ "$BACKEND" = sqlite ]; then
    NOW="strftime('%Y-%m-%d %H:%M:%f', 'now')"
    SERIES="WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ORDERS)"
    FROM="FROM n"
    ID="printf('bench-%d', i)"
    BILL="printf('%d', 9000000000000000 + i)"
    NUM="printf('bench-order-%d', i)"
else
    NOW="now()::timestamp"
    SERIES=""
    FROM="FROM generate_series(1, $ORDERS) AS i"
    ID="'bench-' || i"
    BILL="(9000000000000000 + i)::text"
    NUM="'bench-order-' || i"
fi
sql "$SERIES INSERT INTO orders (id, merchant_id, order_number, billnumber, state, original_amount, original_currency,
        amount, currency, rate, delay, test_mode, language, payment_means, authorized, confirmed, expires_at,
        created_at, updated_at)
     SELECT $ID, '$MERCHANT', $NUM, $BILL, 'Approved', 10000, 'RUB', 10000, 'RUB', '1', false, true, 'RU', 'card',
        10000, 10000, $NOW, $NOW, $NOW $FROM"
sql "INSERT INTO api_keys (id, merchant_id, name, key_hash, prefix, created_at)
     VALUES ('bench-key', '$MERCHANT', 'bench', '$KEY_HASH', 'kassa_000000', $NOW)"
[ "$BACKEND" = postgres ] && sql "ANALYZE" >/dev/null
echo "seeded in $(( $(date +%s) - start )) s"

BILL=$((9000000000000000 + ORDERS / 2))
cat >"$WORK/orderstate.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "Billnumber=$BILL&Merchant_ID=679471&Login=demo_manager&Password=demo-password-2026&Format=3"
EOF
cat >"$WORK/api.lua" <<EOF
wrk.headers["Authorization"] = "Bearer $API_KEY"
EOF

# Sanity: both answer 200 before they are measured.
curl -fs -o /dev/null -X POST --data "Billnumber=$BILL&Merchant_ID=679471&Login=demo_manager&Password=demo-password-2026&Format=3" \
    "http://127.0.0.1:$PORT/orderstate/orderstate.cfm"
curl -fs -o /dev/null -H "Authorization: Bearer $API_KEY" "http://127.0.0.1:$PORT/api/v1/orders/$BILL"

run() {
    local name=$1 script=$2 url=$3
    local out
    out=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$script" "$url")
    local rps p99 non2xx
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $5}' <<<"$out")
    printf '%-10s %-28s %10s req/s   p99 %8s   non-2xx %s\n' "$BACKEND" "$name" "$rps" "$p99" "${non2xx:-0}"
}

run "orderstate (XML)" "$WORK/orderstate.lua" "http://127.0.0.1:$PORT/orderstate/orderstate.cfm"
run "GET /api/v1/orders/{id}" "$WORK/api.lua" "http://127.0.0.1:$PORT/api/v1/orders/$BILL"

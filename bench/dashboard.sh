#!/usr/bin/env bash
# Time of the account dashboard (`GET /account`) over many orders: seeds ORDERS orders (with a
# payment operation each, a tenth of them declined) for the demo merchant, spread evenly over
# SPREAD_DAYS days up to now, signs in as demo_manager and fetches the default 14-day dashboard
# and a 366-day one, RUNS times each.
#
# Usage: bench/dashboard.sh [sqlite|postgres]
# Environment: ORDERS (default 1000000), SPREAD_DAYS (default 60), RUNS (default 5),
#   PG_URL (default postgres://postgres@127.0.0.1:5432/postgres),
#   BENCH_KASSA_BIN (default target/release/kassa; built if missing).
# Needs: sqlite3 / psql, curl.
set -euo pipefail

BACKEND=${1:-sqlite}
ORDERS=${ORDERS:-1000000}
SPREAD_DAYS=${SPREAD_DAYS:-60}
RUNS=${RUNS:-5}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_KASSA_BIN=${BENCH_KASSA_BIN:-$ROOT/target/release/kassa}
PORT=${PORT:-18490}
WORK=$(mktemp -d /tmp/kassa-bench-dash.XXXXXX)
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
        PG_DB="kassa_bench_dash_$$"
        psql "$PG_URL" -q -c "CREATE DATABASE $PG_DB" >/dev/null
        DB_URL="${PG_URL%/*}/$PG_DB"
        ;;
    *) echo "usage: $0 [sqlite|postgres]" >&2; exit 2 ;;
esac

export KASSA_DATABASE_URL=$DB_URL KASSA_DATA_DIR=$WORK KASSA_LISTEN=127.0.0.1:$PORT \
    KASSA_RATE_LIMIT_PER_MINUTE=0 KASSA_LOG=warn KASSA_WORKER_INTERVAL_SECS=86400

"$BENCH_KASSA_BIN" demo >"$WORK/kassa.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/health" >/dev/null && break
    sleep 0.2
done
curl -fs "http://127.0.0.1:$PORT/health" >/dev/null || { cat "$WORK/kassa.log"; exit 1; }

sql() {
    if [ "$BACKEND" = sqlite ]; then sqlite3 -cmd '.timeout 30000' "$WORK/kassa.db" "$1"; else psql "$DB_URL" -q -t -A -c "$1"; fi
}

MERCHANT=$(sql "SELECT id FROM merchants WHERE merchant_number = 679471")
SPAN=$((SPREAD_DAYS * 86400))
echo "seeding $ORDERS orders over $SPREAD_DAYS days ($BACKEND)…"
start=$(date +%s)
# Order i: created i*SPAN/ORDERS seconds ago; a tenth declined, a tenth Delayed, the rest Approved.
if [ "$BACKEND" = sqlite ]; then
    SERIES="WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ORDERS)"
    FROM="FROM n"
    AT="strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || (i * $SPAN / $ORDERS) || ' seconds')"
    ID="printf('bench-%d', i)"
    BILL="printf('%d', 9000000000000000 + i)"
    NUM="printf('bench-order-%d', i)"
    OPID="printf('bench-op-%d', i)"
else
    SERIES=""
    FROM="FROM generate_series(1, $ORDERS) AS i"
    AT="(now() at time zone 'utc') - make_interval(secs => i::bigint * $SPAN / $ORDERS)"
    ID="'bench-' || i"
    BILL="(9000000000000000 + i)::text"
    NUM="'bench-order-' || i"
    OPID="'bench-op-' || i"
fi
STATE="CASE i % 10 WHEN 0 THEN 'Declined' WHEN 1 THEN 'Delayed' ELSE 'Approved' END"
sql "$SERIES INSERT INTO orders (id, merchant_id, order_number, billnumber, state, original_amount, original_currency,
        amount, currency, rate, delay, test_mode, language, payment_means, card_brand, authorized, confirmed,
        expires_at, created_at, updated_at)
     SELECT $ID, '$MERCHANT', $NUM, $BILL, $STATE, 10000, 'RUB', 10000, 'RUB', '1', false, true, 'RU', 'card',
        CASE i % 10 WHEN 0 THEN NULL ELSE 'VISA' END,
        CASE i % 10 WHEN 0 THEN 0 ELSE 10000 END, CASE i % 10 WHEN 0 THEN 0 WHEN 1 THEN 0 ELSE 10000 END,
        $AT, $AT, $AT $FROM"
sql "$SERIES INSERT INTO operations (id, order_id, seq, kind, state, amount, currency, response_code, message,
        created_at, updated_at)
     SELECT $OPID, $ID, 1, 'payment', CASE i % 10 WHEN 0 THEN 'Declined' ELSE 'Success' END, 10000, 'RUB',
        CASE i % 10 WHEN 0 THEN 'AS102' ELSE 'AS000' END, 'bench', $AT, $AT $FROM"
[ "$BACKEND" = postgres ] && sql "ANALYZE" >/dev/null
echo "seeded in $(( $(date +%s) - start )) s"

JAR=$WORK/cookies
CSRF=$(curl -fs -c "$JAR" -b "$JAR" "http://127.0.0.1:$PORT/account/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
curl -fs -o /dev/null -c "$JAR" -b "$JAR" --data-urlencode "csrf=$CSRF" --data-urlencode "login=demo_manager" \
    --data-urlencode "password=demo-password-2026" "http://127.0.0.1:$PORT/account/login"

measure() {
    local name=$1 query=$2 times=()
    for _ in $(seq 1 "$RUNS"); do
        times+=("$(curl -fs -o "$WORK/page.html" -w '%{time_total}' -b "$JAR" "http://127.0.0.1:$PORT/account?$query")")
    done
    grep -q 'id="total-orders"' "$WORK/page.html" || { echo "no dashboard in the answer" >&2; exit 1; }
    printf '%-10s %-22s orders %-8s seconds %s\n' "$BACKEND" "$name" \
        "$(sed -n 's/.*id="total-orders">\([0-9]*\)<.*/\1/p' "$WORK/page.html")" "${times[*]}"
}

TO=$(date -u +%Y-%m-%d)
measure "14 days (default)" ""
measure "366 days" "from=$(date -u -d "$TO - 365 days" +%Y-%m-%d)&to=$TO"

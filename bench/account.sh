#!/usr/bin/env bash
# The Order Monitor over a million orders: seeds ORDERS orders with `kassa seed` (progress on
# stderr), serves them, signs in as the demo manager, and times RUNS requests each of
#   - the first page (newest first),
#   - filtered pages (a state + currency + amount range; a customer e-mail; an order-number mask;
#     a state; a card's last four; a filter that matches nothing; the largest amounts first),
#   - a page half a million rows deep (keyset cursor, no OFFSET),
# then exports a day's rows, 100,000 rows and every order as CSV and reads the server's peak
# memory (VmHWM) before and after each, to show that the export streams in constant memory.
#
# Usage: bench/account.sh [sqlite|postgres]
# Environment: ORDERS (default 1000000), RUNS (default 200),
#   SQLITE_DB (an already seeded SQLite file to use instead of seeding a new one),
#   PG_TEMPLATE (an already seeded PostgreSQL database, copied instead of seeding a new one),
#   PG_URL (default postgres://postgres@127.0.0.1:5432/postgres),
#   BENCH_KASSA_BIN (default target/release/kassa; built if missing).
# Needs: curl, sqlite3 (for SQLite) or psql.
set -euo pipefail

BACKEND=${1:-sqlite}
ORDERS=${ORDERS:-1000000}
RUNS=${RUNS:-200}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH_KASSA_BIN=${BENCH_KASSA_BIN:-$ROOT/target/release/kassa}
PORT=${PORT:-18491}
WORK=$(mktemp -d /tmp/kassa-bench-account.XXXXXX)
PID=

cleanup() {
    if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
    if [ "$BACKEND" = postgres ] && [ -n "${PG_DB:-}" ]; then
        psql "$PG_URL" -q -c "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

[ -x "$BENCH_KASSA_BIN" ] || (cd "$ROOT" && cargo build --release --bin kassa)

DB_FILE=${SQLITE_DB:-$WORK/kassa.db}
case "$BACKEND" in
    sqlite) DB_URL="sqlite://$DB_FILE" ;;
    postgres)
        PG_DB="kassa_bench_account_$$"
        psql "$PG_URL" -q -c "CREATE DATABASE $PG_DB${PG_TEMPLATE:+ TEMPLATE $PG_TEMPLATE}" >/dev/null
        DB_URL="${PG_URL%/*}/$PG_DB"
        ;;
    *) echo "usage: $0 [sqlite|postgres]" >&2; exit 2 ;;
esac
sql() {
    if [ "$BACKEND" = sqlite ]; then sqlite3 -cmd '.timeout 30000' "$DB_FILE" "$1"; else psql "$DB_URL" -q -t -A -c "$1"; fi
}

export KASSA_DATABASE_URL=$DB_URL KASSA_DATA_DIR=$WORK KASSA_LISTEN=127.0.0.1:$PORT \
    KASSA_RATE_LIMIT_PER_MINUTE=0 KASSA_LOG=warn KASSA_WORKER_INTERVAL_SECS=86400

if [ -z "${SQLITE_DB:-}" ] && [ -z "${PG_TEMPLATE:-}" ]; then
    echo "== seeding $ORDERS orders ($BACKEND)" >&2
    "$BENCH_KASSA_BIN" seed --orders "$ORDERS"
fi
"$BENCH_KASSA_BIN" demo >"$WORK/kassa.log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do
    curl -fs "http://127.0.0.1:$PORT/health" >/dev/null && break
    sleep 0.2
done
curl -fs "http://127.0.0.1:$PORT/health" >/dev/null || { cat "$WORK/kassa.log"; exit 1; }

BASE="http://127.0.0.1:$PORT"
JAR="$WORK/cookies"
csrf=$(curl -fs -c "$JAR" -b "$JAR" "$BASE/account/login" | sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' | head -1)
code=$(curl -s -o /dev/null -w '%{http_code}' -c "$JAR" -b "$JAR" \
    --data-urlencode "csrf=$csrf" --data-urlencode "login=demo_manager" --data-urlencode "password=demo-password-2026" \
    "$BASE/account/login")
[ "$code" = 303 ] || { echo "sign-in failed: $code" >&2; exit 1; }

# p50 and p99 in milliseconds of RUNS requests to a path; fails on any non-200 answer.
measure() {
    local name=$1 path=$2 times="$WORK/times"
    : >"$times"
    curl -fs -o /dev/null -b "$JAR" "$BASE$path" # warm-up
    for _ in $(seq 1 "$RUNS"); do
        curl -s -o /dev/null -b "$JAR" -w '%{http_code} %{time_total}\n' "$BASE$path" >>"$times"
    done
    if grep -qv '^200 ' "$times"; then echo "$name: non-200 answers:" >&2; sort "$times" | uniq -c | head >&2; exit 1; fi
    local rows
    rows=$(curl -fs -b "$JAR" "$BASE$path" | grep -c 'href="/account/orders/[0-9]' || true)
    awk '{print $2 * 1000}' "$times" | sort -n | awk -v name="$name" -v rows="$rows" '
        { v[NR] = $1 } END {
            p50 = v[int(NR * 0.50 + 0.5)]; p99 = v[int(NR * 0.99 + 0.5)];
            printf "| %s | %d | %.1f | %.1f |\n", name, rows, p50, p99 }'
}

total=$(sql "SELECT COUNT(*) FROM orders")
email=$(sql "SELECT email FROM orders WHERE email IS NOT NULL ORDER BY id LIMIT 1")
if [ "$BACKEND" = sqlite ]; then
    deep=$(sql "SELECT CAST((julianday(created_at) - 2440587.5) * 86400000000 AS INTEGER) || '_' || id FROM orders ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET $((total / 2))")
    # julianday loses the last microseconds; the cursor only has to land about halfway.
else
    deep=$(sql "SELECT (EXTRACT(EPOCH FROM created_at) * 1000000)::bigint || '_' || id FROM orders ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET $((total / 2))")
fi

echo
echo "Order Monitor, $total orders, $BACKEND, $RUNS requests each (curl time_total, ms):"
echo
echo "| page | rows | p50 | p99 |"
echo "| --- | --- | --- | --- |"
measure "first page (newest first)" "/account/orders"
measure "state Approved + USD + amount 100–500" "/account/orders?state=Approved&currency=USD&amount_min=100&amount_max=500"
measure "customer e-mail (exact)" "/account/orders?customer=$email"
measure "order number mask S0000001-00012%" "/account/orders?order_number=S0000001-00012%25"
measure "state Declined (bench/run's monitor page)" "/account/orders?state=Declined"
measure "card last four 4242" "/account/orders?card=4242"
measure "no match: USD and amount ≥ 99,999" "/account/orders?currency=USD&amount_min=99999"
measure "largest amounts first" "/account/orders?sort=amount"
measure "page at row $((total / 2)) (keyset)" "/account/orders?after=$deep"

# The export: 100,000 rows of a date range, and the server's peak memory around it.
hwm() { awk '/VmHWM/ {print $2}' "/proc/$PID/status"; }
rss() { awk '/VmRSS/ {print $2}' "/proc/$PID/status"; }
days=1
while :; do
    from=$(date -u -d "-$days days" +%F)
    n=$(sql "SELECT COUNT(*) FROM orders WHERE created_at >= '$from'")
    [ "$n" -ge 100000 ] || [ "$days" -ge 90 ] && break
    days=$((days + 1))
done
small_from=$(date -u -d "-1 days" +%F)
before=$(hwm)
t0=$(date +%s.%N)
curl -fs -b "$JAR" "$BASE/account/orders.csv?from=$small_from" -o "$WORK/small.csv"
after_small=$(hwm)
t1=$(date +%s.%N)
curl -fs -b "$JAR" "$BASE/account/orders.csv?from=$from" -o "$WORK/big.csv"
t2=$(date +%s.%N)
after_big=$(hwm)
# Every order (ten times the rows): a streamed export's peak memory must not follow the rows.
curl -fs -b "$JAR" "$BASE/account/orders.csv" -o "$WORK/all.csv"
t3=$(date +%s.%N)
after_all=$(hwm)
echo
echo "CSV export ($BACKEND; from=$from is in UTC+3, the demo enterprise's zone):"
echo
echo "| export | rows | seconds | server peak RSS after (MiB) |"
echo "| --- | --- | --- | --- |"
printf "| before any export | – | – | %.1f |\n" "$(echo "$before / 1024" | bc -l)"
printf "| from=%s | %d | %.2f | %.1f |\n" "$small_from" "$(($(wc -l <"$WORK/small.csv") - 1))" "$(echo "$t1 - $t0" | bc -l)" "$(echo "$after_small / 1024" | bc -l)"
printf "| from=%s | %d | %.2f | %.1f |\n" "$from" "$(($(wc -l <"$WORK/big.csv") - 1))" "$(echo "$t2 - $t1" | bc -l)" "$(echo "$after_big / 1024" | bc -l)"
printf "| every order | %d | %.2f | %.1f |\n" "$(($(wc -l <"$WORK/all.csv") - 1))" "$(echo "$t3 - $t2" | bc -l)" "$(echo "$after_all / 1024" | bc -l)"
echo "(server RSS now: $(( $(rss) / 1024 )) MiB)"

#!/usr/bin/env bash
# Worker benchmarks: settlement of many transactions (time, peak memory) and notifications
# delivered per second to a local receiver, on SQLite and PostgreSQL.
# Usage: bench/worker.sh [settle-transactions] [notifications]
set -euo pipefail
cd "$(dirname "$0")/.."
settle_n=${1:-100000}
notify_n=${2:-5000}
cargo build --release --example worker -q
bin=target/release/examples/worker
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "machine: $(nproc) cores, $(uname -sr); $(date -u +%F)"
echo "| job | database | count | batches | accepted | time | rate | peak memory | set-up |"
"$bin" settle "sqlite://$dir/settle.db" "$settle_n"
"$bin" notify "sqlite://$dir/notify.db" "$notify_n"
if pg_isready -q -h 127.0.0.1 -p 5432; then
    for db in kassa_bench_settle kassa_bench_notify; do
        psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" postgres
    done
    "$bin" settle "postgres://postgres@127.0.0.1:5432/kassa_bench_settle" "$settle_n"
    "$bin" notify "postgres://postgres@127.0.0.1:5432/kassa_bench_notify" "$notify_n"
fi

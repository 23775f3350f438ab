#!/usr/bin/env bash
# Use-case throughput (create order + pay, approved card) on SQLite and PostgreSQL.
# Usage: bench/usecases.sh [orders] [concurrency]
# Needs the local PostgreSQL at 127.0.0.1:5432 (trust auth) for the PostgreSQL rows.
set -euo pipefail
cd "$(dirname "$0")/.."
orders=${1:-5000}
concurrency=${2:-64}
cargo build --release --example usecases -q
bin=target/release/examples/usecases
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

echo "machine: $(nproc) cores, $(uname -sr); $(date -u +%F)"
echo "| database | write path | payments | concurrency | payments/s | p50 ms | p99 ms | errors |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
"$bin" "sqlite://$dir/group.db" "$orders" "$concurrency"
"$bin" "sqlite://$dir/naive.db" "$orders" "$concurrency" naive
if pg_isready -q -h 127.0.0.1 -p 5432; then
    psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS kassa_bench" -c "CREATE DATABASE kassa_bench" postgres
    "$bin" "postgres://postgres@127.0.0.1:5432/kassa_bench" "$orders" "$concurrency"
else
    echo "(PostgreSQL not running at 127.0.0.1:5432: skipped)"
fi

-- SQLite chooses among the orders' indexes by their statistics in `sqlite_stat1`, which only
-- ANALYZE writes, and a full ANALYZE holds the write lock for seconds at a million orders. With
-- none, SQLite guesses, and the Order Monitor's state filter walked every order of a merchant by
-- date (0.5 s at a quarter of a million) instead of reading the state's orders off
-- `(merchant_id, state, created_at)`. These are the statistics of a representative shop — a
-- million orders over four merchants, as `ANALYZE` measured them on `kassa seed` data — so the
-- plans are the same from the first order on (SQLite's documented way to fix query plans:
-- https://sqlite.org/optoverview.html#manual_control_of_query_plans_using_sqlite_stat_tables).
-- A later ANALYZE (`kassa seed` runs one) replaces them with measured ones.
ANALYZE orders;
DELETE FROM sqlite_stat1 WHERE tbl = 'orders';
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('orders', 'sqlite_autoindex_orders_1', '1000000 1'),
    ('orders', 'sqlite_autoindex_orders_2', '1000000 1'),
    ('orders', 'orders_one_live_attempt', '800000 200000 1'),
    ('orders', 'orders_merchant_number', '1000000 250000 1'),
    ('orders', 'orders_merchant_created_id', '1000000 250000 1 1'),
    ('orders', 'orders_merchant_state_created', '1000000 250000 50000 1'),
    ('orders', 'orders_merchant_amount_id', '1000000 250000 84 1'),
    ('orders', 'orders_merchant_brand_created', '1000000 250000 125000 1'),
    ('orders', 'orders_dashboard', '1000000 250000 1 1 1 1 1 1 1 1 1'),
    ('orders', 'orders_email', '1000000 2'),
    ('orders', 'orders_lastname', '1000000 50'),
    ('orders', 'orders_firstname', '1000000 50');

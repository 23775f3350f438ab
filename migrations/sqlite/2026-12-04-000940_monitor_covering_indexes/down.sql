DROP INDEX orders_by_date;
DROP INDEX orders_by_state;
DROP INDEX orders_by_amount;
ALTER TABLE orders DROP COLUMN card_last4;
CREATE INDEX orders_merchant_created_id ON orders (merchant_id, created_at, id);
CREATE INDEX orders_merchant_state_created ON orders (merchant_id, state, created_at);
CREATE INDEX orders_merchant_amount_id ON orders (merchant_id, amount, id);
CREATE INDEX orders_dashboard ON orders
    (merchant_id, created_at, currency, state, card_brand, amount, authorized, released, voided, refunded);
DELETE FROM sqlite_stat1 WHERE tbl = 'orders' AND idx IN ('orders_by_date', 'orders_by_state', 'orders_by_amount');
INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
    ('orders', 'orders_merchant_created_id', '1000000 250000 1 1'),
    ('orders', 'orders_merchant_state_created', '1000000 250000 50000 1'),
    ('orders', 'orders_merchant_amount_id', '1000000 250000 84 1'),
    ('orders', 'orders_dashboard', '1000000 250000 1 1 1 1 1 1 1 1 1');

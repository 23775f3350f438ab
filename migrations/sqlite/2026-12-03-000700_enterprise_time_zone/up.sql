-- The enterprise's time zone (an IANA name such as 'Europe/Moscow'): the account shows times
-- and cuts days (monitor date filter, dashboard) in it. Kassa checks the name against its
-- bundled tz database when it loads it; an unknown name falls back to UTC.
ALTER TABLE enterprises ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

-- The dashboard's two scans of a period, index-only: its orders by merchant and time with
-- every column it sums, and the payment operations of those orders (reached by order id).
CREATE INDEX orders_dashboard ON orders
    (merchant_id, created_at, currency, state, card_brand, amount, authorized, released, voided, refunded);
CREATE INDEX operations_dashboard ON operations (order_id, kind, state, currency, response_code);

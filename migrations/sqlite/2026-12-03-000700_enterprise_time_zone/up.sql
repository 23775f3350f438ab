-- The enterprise's time zone (an IANA name such as 'Europe/Moscow'): the account shows times
-- and cuts days (monitor date filter, dashboard) in it. Kassa checks the name against its
-- bundled tz database when it loads it; an unknown name falls back to UTC.
ALTER TABLE enterprises ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

-- The dashboard joins the payment operations of a period's orders: reach them by order.
CREATE INDEX operations_order_kind_state ON operations (order_id, kind, state);

-- A merchant's turnover of one UTC day: the sum of its payment operations of that day that are
-- in flight or succeeded. A payment reserves its amount here with a conditional update before
-- the processor is called, so that the merchant's `daily_cap` holds for what is authorized,
-- whatever runs at the same time; a declined or failed payment gives its amount back.
CREATE TABLE merchant_daily_turnover (
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    -- The UTC day, 'YYYY-MM-DD'.
    day TEXT NOT NULL CHECK (length(day) = 10),
    amount BIGINT NOT NULL DEFAULT 0 CHECK (amount >= 0),
    PRIMARY KEY (merchant_id, day)
);

-- The payments made before this table existed.
INSERT INTO merchant_daily_turnover (merchant_id, day, amount)
SELECT o.merchant_id, substr(p.created_at, 1, 10), SUM(p.amount)
FROM operations p JOIN orders o ON o.id = p.order_id
WHERE p.kind = 'payment' AND p.state IN ('In Process', 'Success')
GROUP BY o.merchant_id, substr(p.created_at, 1, 10);

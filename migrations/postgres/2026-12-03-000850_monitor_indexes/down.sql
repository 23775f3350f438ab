DROP INDEX orders_merchant_number_pattern;
CREATE INDEX orders_merchant_created ON orders (merchant_id, created_at);

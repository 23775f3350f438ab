CREATE INDEX orders_merchant_created ON orders (merchant_id, created_at);

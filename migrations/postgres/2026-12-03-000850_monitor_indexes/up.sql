-- (merchant_id, created_at, id) serves everything (merchant_id, created_at) did.
DROP INDEX orders_merchant_created;
-- The order-number mask (`S0001-%`): LIKE reads a prefix range only off an index whose order is
-- the byte order, whatever the database's collation.
CREATE INDEX orders_merchant_number_pattern ON orders (merchant_id, order_number text_pattern_ops);

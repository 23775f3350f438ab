-- (merchant_id, created_at, id) serves everything (merchant_id, created_at) did.
DROP INDEX orders_merchant_created;

DROP INDEX operations_order_kind_state;
ALTER TABLE enterprises DROP COLUMN time_zone;

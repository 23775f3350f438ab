DROP INDEX operations_dashboard;
DROP INDEX orders_dashboard;
ALTER TABLE enterprises DROP COLUMN time_zone;

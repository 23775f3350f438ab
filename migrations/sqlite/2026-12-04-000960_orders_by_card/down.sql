DROP INDEX orders_by_card;
DELETE FROM sqlite_stat1 WHERE tbl = 'orders' AND idx = 'orders_by_card';

DROP INDEX orders_by_card;

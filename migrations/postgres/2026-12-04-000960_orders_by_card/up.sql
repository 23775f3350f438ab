-- The card filter is an equality on the last four digits: one in ten thousand of a merchant's
-- orders. Found among the date index's entries it still passed over every order of the
-- merchant (0.13 s at a quarter of a million on PostgreSQL); this index gives them in date
-- order directly.
CREATE INDEX orders_by_card ON orders (merchant_id, card_last4, created_at, id);

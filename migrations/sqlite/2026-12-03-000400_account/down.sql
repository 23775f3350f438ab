DROP INDEX operations_card_mask;
DROP INDEX orders_lastname;
DROP INDEX orders_email;
DROP INDEX orders_merchant_state_created;
DROP INDEX orders_merchant_created_id;
DROP TABLE account_nonces;
DROP TABLE account_sign_ins;
DROP TABLE account_sessions;
ALTER TABLE users DROP COLUMN account_role;

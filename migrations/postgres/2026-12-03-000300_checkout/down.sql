DROP TABLE checkout_settings;
DROP TABLE checkout_nonces;
DROP TABLE checkout_pages;

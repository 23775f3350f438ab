DROP TABLE gateway_signing_key;

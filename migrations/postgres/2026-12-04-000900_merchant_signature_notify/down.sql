ALTER TABLE merchants DROP COLUMN notification_protocol;
ALTER TABLE merchants DROP COLUMN signature_required;
ALTER TABLE merchants DROP COLUMN rsa_public_key;

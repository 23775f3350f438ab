-- The merchant's RSA public key (PEM, SubjectPublicKeyInfo) that verifies the `Signature` of its
-- payment requests, and whether its requests must carry one instead of a check value.
ALTER TABLE merchants ADD COLUMN rsa_public_key TEXT;
ALTER TABLE merchants ADD COLUMN signature_required BOOLEAN NOT NULL DEFAULT FALSE
    CHECK (NOT signature_required OR rsa_public_key IS NOT NULL);
-- How the result notification reaches the merchant's server (reference §5): a form POST or a
-- SOAP call.
ALTER TABLE merchants ADD COLUMN notification_protocol TEXT NOT NULL DEFAULT 'post'
    CHECK (notification_protocol IN ('post', 'soap'));

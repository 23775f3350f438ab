-- The merchant's RSA public key (PEM, SubjectPublicKeyInfo) that verifies the `Signature` of its
-- payment requests, and whether its requests must carry one instead of a check value.
ALTER TABLE merchants ADD COLUMN rsa_public_key TEXT;
ALTER TABLE merchants ADD COLUMN signature_required BOOLEAN NOT NULL DEFAULT FALSE
    CHECK (NOT signature_required OR rsa_public_key IS NOT NULL);

-- Kassa's own RSA key pair (PKCS#8 PEM): in signature mode it signs the answers and
-- notifications Kassa sends merchants (reference §4.3, §5). One row, id 1, so every Kassa
-- process sharing this database signs with the same key; the first to need it inserts it with
-- ON CONFLICT DO NOTHING and every process reads back whichever row won.
CREATE TABLE gateway_signing_key (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    private_key_pem TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

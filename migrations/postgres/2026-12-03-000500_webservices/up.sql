-- Web services: API keys, idempotency keys and the audit log of money-changing requests.

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- Lower-case hex SHA-256 of the clear key; the clear key is shown once and never stored.
    key_hash TEXT NOT NULL UNIQUE,
    -- The first characters of the clear key, so a merchant can tell keys apart.
    prefix TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    last_used_at TIMESTAMP
);

CREATE INDEX api_keys_merchant ON api_keys (merchant_id);

CREATE TABLE idempotency_keys (
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('in_progress', 'done')),
    response_status INTEGER,
    response_body TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (merchant_id, idempotency_key)
);

CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    merchant_id TEXT REFERENCES merchants (id),
    order_id TEXT REFERENCES orders (id),
    -- `user` (a web-service login) or `api_key`.
    actor_kind TEXT NOT NULL,
    -- The user's login or the API key's id.
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    -- `ok` or the stable error code of the refusal.
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    ip TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE INDEX audit_events_merchant_created ON audit_events (merchant_id, created_at);

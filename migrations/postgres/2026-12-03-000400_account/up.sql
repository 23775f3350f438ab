-- The merchant personal account: server-side sessions, sign-in lockout, one-time form nonces,
-- the account role of each user, and the indexes the Order Monitor's filters need.

-- What a merchant user may do in the account. Least privilege for users made elsewhere.
ALTER TABLE users ADD COLUMN account_role TEXT NOT NULL DEFAULT 'viewer'
    CHECK (account_role IN ('viewer', 'operator', 'manager'));

CREATE TABLE account_sessions (
    -- Lower-case hex SHA-256 of the cookie value: a copy of the table opens no session.
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id),
    -- Sent back in a hidden field of every form.
    csrf_token TEXT NOT NULL,
    ip TEXT,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX account_sessions_user ON account_sessions (user_id);

-- Failed sign-ins per login, known or not, so a lock says nothing about whether a login exists.
CREATE TABLE account_sign_ins (
    login TEXT PRIMARY KEY NOT NULL,
    failures INTEGER NOT NULL CHECK (failures >= 0),
    locked_until TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);

-- One per rendered confirm/cancel form: a second submit of the same form finds it gone.
CREATE TABLE account_nonces (
    nonce TEXT PRIMARY KEY NOT NULL,
    session_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX account_nonces_created ON account_nonces (created_at);

-- Order Monitor: newest first with a keyset on (created_at, id), and the selective filters.
CREATE INDEX orders_merchant_created_id ON orders (merchant_id, created_at, id);
CREATE INDEX orders_merchant_state_created ON orders (merchant_id, state, created_at);
CREATE INDEX orders_email ON orders (email);
CREATE INDEX orders_lastname ON orders (lastname);
CREATE INDEX operations_card_mask ON operations (card_mask) WHERE card_mask IS NOT NULL;

-- Kassa foundation schema. Money is BIGINT minor units beside an ISO 4217 code.
-- The rules of ARCHITECTURE.md are enforced here: CHECKs on every total, partial unique
-- indexes for "one live payment per order" and "one live attempt per order number".

CREATE TABLE enterprises (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE merchants (
    id TEXT PRIMARY KEY NOT NULL,
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    merchant_number BIGINT NOT NULL UNIQUE CHECK (merchant_number > 0),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- MD5 hex of the secret word: the Assist check value only ever needs MD5(secret).
    secret_md5 TEXT NOT NULL CHECK (length(secret_md5) = 32),
    checkvalue_mode TEXT NOT NULL CHECK (checkvalue_mode IN ('off', 'delimited', 'concatenated')),
    response_variant TEXT NOT NULL CHECK (response_variant IN ('A', 'B')),
    two_stage_allowed BOOLEAN NOT NULL,
    test_mode BOOLEAN NOT NULL,
    payment_means TEXT NOT NULL,
    currencies TEXT NOT NULL,
    payment_currency TEXT NOT NULL CHECK (length(payment_currency) = 3),
    payment_timeout_secs BIGINT NOT NULL CHECK (payment_timeout_secs BETWEEN 60 AND 604800),
    confirm_window_secs BIGINT NOT NULL CHECK (confirm_window_secs BETWEEN 3600 AND 2592000),
    url_return TEXT,
    url_return_ok TEXT,
    url_return_no TEXT,
    notification_url TEXT,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX merchants_enterprise ON merchants (enterprise_id);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    enterprise_id TEXT REFERENCES enterprises (id),
    login TEXT NOT NULL UNIQUE CHECK (length(login) BETWEEN 3 AND 64),
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'merchant')),
    webservices BOOLEAN NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    -- A merchant user belongs to an enterprise; an admin to none.
    CHECK ((role = 'admin') = (enterprise_id IS NULL))
);

CREATE TABLE exchange_rates (
    id TEXT PRIMARY KEY NOT NULL,
    from_currency TEXT NOT NULL CHECK (length(from_currency) = 3),
    to_currency TEXT NOT NULL CHECK (length(to_currency) = 3),
    -- Decimal string: units of to_currency per one unit of from_currency.
    rate TEXT NOT NULL,
    valid_from TIMESTAMP NOT NULL,
    UNIQUE (from_currency, to_currency, valid_from)
);

CREATE TABLE orders (
    id TEXT PRIMARY KEY NOT NULL,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    order_number TEXT NOT NULL CHECK (length(order_number) BETWEEN 1 AND 128),
    billnumber TEXT NOT NULL UNIQUE CHECK (length(billnumber) = 16),
    state TEXT NOT NULL CHECK (state IN ('In Process', 'Delayed', 'Approved', 'PartialDelayed',
                                         'Canceled', 'PartialCanceled', 'Declined', 'Timeout')),
    original_amount BIGINT NOT NULL CHECK (original_amount > 0),
    original_currency TEXT NOT NULL CHECK (length(original_currency) = 3),
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL CHECK (length(currency) = 3),
    rate TEXT NOT NULL,
    delay BOOLEAN NOT NULL,
    test_mode BOOLEAN NOT NULL,
    comment TEXT CHECK (length(comment) <= 4000),
    language TEXT NOT NULL,
    lastname TEXT, firstname TEXT, middlename TEXT, email TEXT, phone TEXT,
    address TEXT, country TEXT, city TEXT, zip TEXT, client_ip TEXT,
    url_return TEXT, url_return_ok TEXT, url_return_no TEXT,
    payment_means TEXT NOT NULL,
    card_brand TEXT,
    -- Money totals in minor units of `currency`. held = authorized - confirmed - released;
    -- returned = released + voided + refunded never exceeds what was authorized.
    authorized BIGINT NOT NULL DEFAULT 0 CHECK (authorized >= 0 AND authorized <= amount),
    confirmed BIGINT NOT NULL DEFAULT 0 CHECK (confirmed >= 0),
    released BIGINT NOT NULL DEFAULT 0 CHECK (released >= 0),
    voided BIGINT NOT NULL DEFAULT 0 CHECK (voided >= 0),
    refunded BIGINT NOT NULL DEFAULT 0 CHECK (refunded >= 0),
    settled BIGINT NOT NULL DEFAULT 0 CHECK (settled >= 0),
    next_seq INTEGER NOT NULL DEFAULT 1 CHECK (next_seq >= 1),
    expires_at TIMESTAMP NOT NULL,
    confirm_deadline TIMESTAMP,
    paid_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (confirmed + released <= authorized),
    CHECK (voided + refunded <= confirmed),
    CHECK (settled <= confirmed)
);
-- A paid (or still open) attempt owns its order number; failed attempts may be retried.
CREATE UNIQUE INDEX orders_one_live_attempt ON orders (merchant_id, order_number)
    WHERE state NOT IN ('Declined', 'Timeout');
CREATE INDEX orders_merchant_created ON orders (merchant_id, created_at);
CREATE INDEX orders_merchant_number ON orders (merchant_id, order_number);
CREATE INDEX orders_open ON orders (expires_at) WHERE state = 'In Process';

CREATE TABLE operations (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    seq INTEGER NOT NULL CHECK (seq >= 1),
    kind TEXT NOT NULL CHECK (kind IN ('payment', 'confirmation', 'cancel')),
    state TEXT NOT NULL CHECK (state IN ('In Process', 'Success', 'Declined')),
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL CHECK (length(currency) = 3),
    response_code TEXT,
    message TEXT,
    approval_code TEXT,
    card_mask TEXT,
    card_brand TEXT,
    cardholder TEXT,
    card_expiry TEXT,
    client_ip TEXT,
    cancel_reason INTEGER,
    external_refund_id TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (order_id, seq)
);
-- Rule 1: at most one payment per order that is in flight or succeeded.
CREATE UNIQUE INDEX operations_one_live_payment ON operations (order_id)
    WHERE kind = 'payment' AND state IN ('In Process', 'Success');
CREATE UNIQUE INDEX operations_one_confirmation ON operations (order_id)
    WHERE kind = 'confirmation' AND state <> 'Declined';
CREATE UNIQUE INDEX operations_external_refund_id ON operations (order_id, external_refund_id)
    WHERE external_refund_id IS NOT NULL;

CREATE TABLE settlement_batches (
    id TEXT PRIMARY KEY NOT NULL,
    currency TEXT NOT NULL CHECK (length(currency) = 3),
    state TEXT NOT NULL CHECK (state IN ('sent', 'acknowledged')),
    item_count INTEGER NOT NULL CHECK (item_count > 0),
    total BIGINT NOT NULL CHECK (total > 0),
    accepted_total BIGINT NOT NULL DEFAULT 0 CHECK (accepted_total >= 0 AND accepted_total <= total),
    rejected_count INTEGER NOT NULL DEFAULT 0 CHECK (rejected_count >= 0),
    processor_ref TEXT,
    created_at TIMESTAMP NOT NULL,
    acknowledged_at TIMESTAMP
);

CREATE TABLE transactions (
    id TEXT PRIMARY KEY NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders (id),
    operation_id TEXT NOT NULL REFERENCES operations (id),
    kind TEXT NOT NULL CHECK (kind IN ('authorization', 'financial', 'reversal', 'refund')),
    state TEXT NOT NULL CHECK (state IN ('new', 'waiting', 'sent', 'challenge', 'approved', 'declined',
                                         'timeout', 'settled', 'rejected', 'dropped')),
    amount BIGINT NOT NULL CHECK (amount >= 0),
    currency TEXT NOT NULL CHECK (length(currency) = 3),
    -- The transaction this one acts on (a reversal or refund points at the authorization).
    parent_id TEXT REFERENCES transactions (id),
    processor_ref TEXT,
    response_code TEXT,
    batch_id TEXT REFERENCES settlement_batches (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (amount > 0 OR state = 'dropped'),
    CHECK ((batch_id IS NULL) OR kind = 'financial')
);
CREATE INDEX transactions_order ON transactions (order_id);
CREATE INDEX transactions_unsettled ON transactions (state, kind) WHERE state IN ('new', 'waiting', 'sent', 'challenge');
CREATE INDEX transactions_batch ON transactions (batch_id) WHERE batch_id IS NOT NULL;
CREATE UNIQUE INDEX transactions_one_financial ON transactions (operation_id) WHERE kind = 'financial';

-- Transactional outbox: rows written in the same transaction as the change they announce.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY NOT NULL,
    topic TEXT NOT NULL,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    order_id TEXT REFERENCES orders (id),
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    available_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE INDEX outbox_pending ON outbox (available_at) WHERE state = 'pending';

-- The background worker: leases on outbox messages, the log of delivery attempts, the
-- merchant's webhook and e-mail settings, and leases for jobs that run on one worker at a time.

ALTER TABLE outbox ADD COLUMN lease_until TIMESTAMP;
ALTER TABLE outbox ADD COLUMN locked_by TEXT;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
CREATE INDEX outbox_order ON outbox (order_id);

CREATE TABLE delivery_attempts (
    id TEXT PRIMARY KEY NOT NULL,
    outbox_id TEXT NOT NULL REFERENCES outbox (id),
    attempt INTEGER NOT NULL CHECK (attempt >= 1),
    status INTEGER,
    outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'refused', 'no_answer')),
    detail TEXT,
    started_at TIMESTAMP NOT NULL,
    duration_ms BIGINT NOT NULL CHECK (duration_ms >= 0)
);
CREATE INDEX delivery_attempts_outbox ON delivery_attempts (outbox_id);

ALTER TABLE merchants ADD COLUMN webhook_url TEXT;
-- Up to two `whsec_` secrets separated by a space: both sign during a rotation.
ALTER TABLE merchants ADD COLUMN webhook_secrets TEXT;
ALTER TABLE merchants ADD COLUMN tech_email TEXT;
-- What happens to a Delayed order at its confirmation deadline.
ALTER TABLE merchants ADD COLUMN deadline_policy TEXT NOT NULL DEFAULT 'reverse'
    CHECK (deadline_policy IN ('reverse', 'confirm'));

CREATE TABLE job_leases (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    lease_until TIMESTAMP NOT NULL,
    last_run_at TIMESTAMP
);

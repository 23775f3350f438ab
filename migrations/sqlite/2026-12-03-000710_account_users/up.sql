-- The account's users page: per-merchant roles, an operator's amount limit, TOTP two-factor
-- sign-in, locking and deleting users, and who carried out each operation.

-- 'all': `account_role` applies to every merchant of the enterprise, now and later.
-- 'listed': the user sees only the merchants of `account_grants`, each with its own role.
ALTER TABLE users ADD COLUMN merchant_scope TEXT NOT NULL DEFAULT 'all'
    CHECK (merchant_scope IN ('all', 'listed'));
-- The most an operator may confirm or cancel in one action, in minor units of `limit_currency`;
-- no limit when NULL. Managers have none.
ALTER TABLE users ADD COLUMN amount_limit BIGINT CHECK (amount_limit IS NULL OR amount_limit >= 0);
ALTER TABLE users ADD COLUMN limit_currency TEXT;
ALTER TABLE users ADD COLUMN email TEXT;
-- RFC 6238 secret (base32); sign-in asks for a code only once `totp_enabled` is set, which
-- happens after the user proved the authenticator works.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enabled BOOLEAN NOT NULL DEFAULT FALSE;
-- The 30-second step of the last accepted code: a code is accepted once.
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
-- Set by a manager's password reset: the next sign-in must choose a new password first.
ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT FALSE;
-- A deleted user keeps its row (audit entries name it) but can never sign in again.
ALTER TABLE users ADD COLUMN deleted_at TIMESTAMP;

CREATE TABLE account_grants (
    user_id TEXT NOT NULL REFERENCES users (id),
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'manager')),
    PRIMARY KEY (user_id, merchant_id)
);

-- A manager can require every user of the enterprise to sign in with TOTP.
ALTER TABLE enterprises ADD COLUMN require_totp BOOLEAN NOT NULL DEFAULT FALSE;

-- How far a session got: 'totp' waits for the code, 'enroll' must set up TOTP first,
-- 'password' must choose a new password first; only 'full' opens the account.
ALTER TABLE account_sessions ADD COLUMN stage TEXT NOT NULL DEFAULT 'full'
    CHECK (stage IN ('totp', 'enroll', 'password', 'full'));

-- Who carried out an operation: 'customer', 'account:<login>', 'api:<key>',
-- 'webservices:<login>' or 'worker'. NULL for rows older than this column.
ALTER TABLE operations ADD COLUMN actor TEXT;

-- Order Monitor sorted by amount, and filtered by the means used (card brand or wallet).
CREATE INDEX orders_merchant_amount_id ON orders (merchant_id, amount, id);
CREATE INDEX orders_merchant_brand_created ON orders (merchant_id, card_brand, created_at);
CREATE INDEX account_sign_ins_updated ON account_sign_ins (updated_at);
-- The customer filter matches e-mail, last name or first name: each needs its index.
CREATE INDEX orders_firstname ON orders (firstname);

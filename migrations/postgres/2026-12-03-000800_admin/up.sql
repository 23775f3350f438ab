-- The admin area: enterprise details and suspension, admin sessions beside the account's, and
-- an audit log that can only grow.

-- Legal details and contacts of an enterprise, edited by platform admins.
ALTER TABLE enterprises ADD COLUMN legal_name TEXT;
ALTER TABLE enterprises ADD COLUMN tax_id TEXT;
ALTER TABLE enterprises ADD COLUMN address TEXT;
ALTER TABLE enterprises ADD COLUMN contact_name TEXT;
ALTER TABLE enterprises ADD COLUMN contact_email TEXT;
ALTER TABLE enterprises ADD COLUMN contact_phone TEXT;
-- A suspended enterprise's merchants accept no payments; nothing else about them changes.
ALTER TABLE enterprises ADD COLUMN suspended BOOLEAN NOT NULL DEFAULT FALSE;

-- Limits per merchant, in minor units of its payment currency (NULL: none): the smallest and
-- largest order, and the most its orders may authorize in one UTC day.
ALTER TABLE merchants ADD COLUMN min_amount BIGINT CHECK (min_amount IS NULL OR min_amount > 0);
ALTER TABLE merchants ADD COLUMN max_amount BIGINT CHECK (max_amount IS NULL OR max_amount > 0);
ALTER TABLE merchants ADD COLUMN daily_cap BIGINT CHECK (daily_cap IS NULL OR daily_cap > 0);
-- After a payment the customer sees Kassa's result page ('result') or is sent straight back to
-- the shop's return URL ('redirect').
ALTER TABLE merchants ADD COLUMN after_payment TEXT NOT NULL DEFAULT 'result'
    CHECK (after_payment IN ('result', 'redirect'));

-- One sessions table for both surfaces: 'account' sessions open `/account`, 'admin' sessions
-- open `/admin`; a session of one kind never opens the other.
ALTER TABLE account_sessions ADD COLUMN kind TEXT NOT NULL DEFAULT 'account'
    CHECK (kind IN ('account', 'admin'));

-- The enterprise an audit entry concerns (search by enterprise); NULL for platform-wide ones.
ALTER TABLE audit_events ADD COLUMN enterprise_id TEXT;
CREATE INDEX audit_events_created ON audit_events (created_at);
CREATE INDEX audit_events_enterprise_created ON audit_events (enterprise_id, created_at);

-- Append-only: no role, not even the owner, may change or remove an entry.
CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

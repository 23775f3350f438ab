-- Processing settings edited by platform admins at /admin/processing: the settlement schedule,
-- and the simulator's latency and fault injection for test merchants.

-- One row. `settlement_cutoffs`: the daily cut-off times in UTC, "HH:MM" comma-separated in
-- ascending order; the worker sends one settlement run after each of them.
CREATE TABLE processing_settings (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    settlement_cutoffs TEXT NOT NULL CHECK (length(settlement_cutoffs) BETWEEN 5 AND 200),
    updated_at TIMESTAMP NOT NULL
);
-- Midnight in Moscow, the usual end of the processing day.
INSERT INTO processing_settings (id, settlement_cutoffs, updated_at) VALUES (1, '21:00', CURRENT_TIMESTAMP);

-- What the simulator does to one test merchant's authorizations: added latency and the percent
-- of each injected fault (at most 100 together). Applied only while the merchant (and its
-- order) is in test mode.
CREATE TABLE simulator_settings (
    merchant_id TEXT PRIMARY KEY NOT NULL REFERENCES merchants (id),
    latency_ms INTEGER NOT NULL CHECK (latency_ms BETWEEN 0 AND 30000),
    timeout_pct INTEGER NOT NULL CHECK (timeout_pct BETWEEN 0 AND 100),
    late_answer_pct INTEGER NOT NULL CHECK (late_answer_pct BETWEEN 0 AND 100),
    error_pct INTEGER NOT NULL CHECK (error_pct BETWEEN 0 AND 100),
    decline_pct INTEGER NOT NULL CHECK (decline_pct BETWEEN 0 AND 100),
    duplicate_pct INTEGER NOT NULL CHECK (duplicate_pct BETWEEN 0 AND 100),
    updated_at TIMESTAMP NOT NULL,
    CHECK (timeout_pct + late_answer_pct + error_pct + decline_pct + duplicate_pct <= 100)
);

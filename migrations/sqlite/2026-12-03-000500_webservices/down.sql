DROP TABLE audit_events;
DROP TABLE idempotency_keys;
DROP TABLE api_keys;

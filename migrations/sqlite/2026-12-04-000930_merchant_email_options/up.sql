-- E-mail options of a merchant: whether its customers get Kassa's payment e-mails (receipts and
-- returned-money notices), and up to five staff addresses that get a blind copy of each.
ALTER TABLE merchants ADD COLUMN customer_emails BOOLEAN NOT NULL DEFAULT TRUE;
-- Space-separated addresses; NULL when none.
ALTER TABLE merchants ADD COLUMN staff_emails TEXT;

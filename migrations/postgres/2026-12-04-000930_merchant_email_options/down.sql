ALTER TABLE merchants DROP COLUMN staff_emails;
ALTER TABLE merchants DROP COLUMN customer_emails;

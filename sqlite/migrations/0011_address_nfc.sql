-- Addresses are compared with their local part in Unicode NFC: the Go step
-- of this migration rewrites the stored ones (and merges two spellings of
-- one mailbox), as migration 0005 did for IDNA domains.
SELECT 1;

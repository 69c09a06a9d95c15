-- Ident server database, schema version 2.
-- Answering a push login closes the login's other challenges (`WHERE txn_id
-- = ?`), and deleting a login cascades to its challenges: without an index
-- both scanned the whole, ever-growing challenges table (the load generator
-- saw the CPU per login grow with every login already stored).
CREATE INDEX challenges_txn ON challenges(txn_id);

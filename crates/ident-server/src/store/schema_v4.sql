-- Ident server database, schema version 4: the proof replay window keyed by
-- (expires_at, jti) in one b-tree.
-- Every device request writes one record here. As a rowid table with a
-- unique jti and an index on expires_at, each record was three b-tree
-- inserts (three WAL pages per request) and each purge deleted from three.
-- Keyed by expiry first, a record is one insert at the end of one b-tree
-- and the purge removes a contiguous range at its start. The expiry is
-- `iat + 60` of the signed proof, so a replayed proof has the same key and
-- is refused as before (benches/store.rs).
CREATE TABLE proof_jtis_v4 (
    expires_at  INTEGER NOT NULL,
    jti         TEXT    NOT NULL,                      -- '<key thumbprint>.<jti>'
    PRIMARY KEY (expires_at, jti)
) WITHOUT ROWID;
INSERT INTO proof_jtis_v4 (expires_at, jti) SELECT expires_at, jti FROM proof_jtis;
DROP TABLE proof_jtis;
ALTER TABLE proof_jtis_v4 RENAME TO proof_jtis;

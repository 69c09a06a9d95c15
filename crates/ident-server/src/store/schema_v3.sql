-- Ident server database, schema version 3: auth_txns rebuilt.
-- Applied with foreign keys off (store/schema.rs), as SQLite's procedure for
-- changing a table requires: dropping the old table must not cascade to the
-- challenges and SMS codes that refer to it. `PRAGMA foreign_key_check` runs
-- before the commit.
--
-- 1. api_key_id: the relying party's API key that started the login. Status
--    reads and SMS codes are accepted only with that key (protocol.md,
--    "Logins"). Logins started before this version have none and are not
--    found by anyone; they expire within minutes anyway.
-- 2. trust_token_sealed replaces trust_token, which held the token in clear:
--    AES-256-GCM under a key derived from the server key, the transaction id
--    as associated data (services/trust.rs). Tokens of logins approved before
--    this version are dropped from their status (the trusted-browser records
--    stay valid; only the repeat of the token in that status is lost).
-- 3. The CHECK constraints are written with `=` and `OR`: SQLite evaluates
--    `IN (…)` of more than two values through a temporary b-tree that it
--    built on every insert and every status change (benches/store.rs).

CREATE TABLE auth_txns_v3 (                            -- one login's second factor
    id           TEXT    PRIMARY KEY,                  -- txn id, random
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    api_key_id   INTEGER REFERENCES api_keys(id),      -- the key that started it; NULL: before v3
    method       TEXT    NOT NULL
                 CHECK (method = 'push' OR method = 'sms' OR method = 'trusted'),
    status       TEXT    NOT NULL
                 CHECK (status = 'pending' OR status = 'approved' OR status = 'denied'
                        OR status = 'expired' OR status = 'locked'),
    number       TEXT,                                 -- number matching, shown on the login page
    ip           TEXT    NOT NULL,
    user_agent   TEXT    NOT NULL,
    service      TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    decided_at   INTEGER,
    trust_token_sealed BLOB                            -- issued on approval when the interval > 0
);
INSERT INTO auth_txns_v3 (id, user_id, api_key_id, method, status, number, ip, user_agent,
                          service, created_at, expires_at, decided_at, trust_token_sealed)
    SELECT id, user_id, NULL, method, status, number, ip, user_agent,
           service, created_at, expires_at, decided_at, NULL
    FROM auth_txns;
DROP TABLE auth_txns;
ALTER TABLE auth_txns_v3 RENAME TO auth_txns;
CREATE INDEX auth_txns_user_status ON auth_txns(user_id, status);

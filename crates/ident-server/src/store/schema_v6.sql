-- Ident server database, schema version 6: a login can be withdrawn.
-- Applied with foreign keys off (store/schema.rs), as SQLite's procedure for
-- changing a table requires; `PRAGMA foreign_key_check` runs before the commit.
--
-- The portal withdraws a pending login when the user cancels it or switches
-- to an SMS code (`DELETE /api/v1/auth/{txn}`, protocol.md "Logins"). Such a
-- login gets the final status `withdrawn`: it is neither a denial nor open,
-- so it no longer counts toward the open-challenge limit. SQLite cannot
-- change a CHECK constraint in place, so auth_txns is rebuilt exactly as in
-- version 3 with one more allowed status (still written with `=`/`OR`, see
-- schema_v3.sql). Its challenges keep their rows; a withdrawal marks them
-- answered with `decision = 'withdrawn'` (that column has no CHECK).

CREATE TABLE auth_txns_v6 (                            -- one login's second factor
    id           TEXT    PRIMARY KEY,                  -- txn id, random
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    api_key_id   INTEGER REFERENCES api_keys(id),      -- the key that started it; NULL: before v3
    method       TEXT    NOT NULL
                 CHECK (method = 'push' OR method = 'sms' OR method = 'trusted'),
    status       TEXT    NOT NULL
                 CHECK (status = 'pending' OR status = 'approved' OR status = 'denied'
                        OR status = 'expired' OR status = 'locked' OR status = 'withdrawn'),
    number       TEXT,                                 -- number matching, shown on the login page
    ip           TEXT    NOT NULL,
    user_agent   TEXT    NOT NULL,
    service      TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    decided_at   INTEGER,
    trust_token_sealed BLOB                            -- issued on approval when the interval > 0
);
INSERT INTO auth_txns_v6 (id, user_id, api_key_id, method, status, number, ip, user_agent,
                          service, created_at, expires_at, decided_at, trust_token_sealed)
    SELECT id, user_id, api_key_id, method, status, number, ip, user_agent,
           service, created_at, expires_at, decided_at, trust_token_sealed
    FROM auth_txns;
DROP TABLE auth_txns;
ALTER TABLE auth_txns_v6 RENAME TO auth_txns;
CREATE INDEX auth_txns_user_status ON auth_txns(user_id, status);

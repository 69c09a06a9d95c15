-- Ident server database, schema version 7: user ids and logins are never
-- reused.
-- Applied with foreign keys off (store/schema.rs), as SQLite's procedure for
-- changing a table requires; `PRAGMA foreign_key_check` runs before the commit.
--
-- Users can now be deleted (`DELETE /api/v1/users/{login}`), and their
-- audit entries and SMS ledger rows stay behind with the old `user_id`.
-- Without AUTOINCREMENT SQLite gives a new row the highest id plus one, so
-- the next user created after deleting the newest one would inherit its id,
-- and with it the deleted user's audit log and SMS lines. AUTOINCREMENT
-- remembers the highest id ever used (in `sqlite_sequence`). The table is
-- otherwise as in version 1; its role CHECK is written with `=`/`OR` (see
-- schema_v3.sql).
--
-- Logins are kept too (`deleted_logins`): the audit log names actors as
-- `user:<login>`, and a portal session names its user by login. A new user
-- under a deleted user's login would inherit both — the old entries would
-- read as theirs, and a browser still logged in as the old user would act
-- as the new one.

CREATE TABLE users_v7 (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    login          TEXT    NOT NULL UNIQUE,            -- LoginName, normalised
    display_name   TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL,                   -- Argon2id PHC string
    role           TEXT    NOT NULL
                   CHECK (role = 'broker' OR role = 'employee' OR role = 'sub_broker'
                          OR role = 'customer'),
    broker_id      INTEGER REFERENCES users(id),       -- NULL exactly for brokers
    email          TEXT,                               -- for customer mail
    phone          TEXT,                               -- E.164, NULL = none on file
    interval_days  INTEGER NOT NULL DEFAULT 0 CHECK (interval_days BETWEEN 0 AND 90),
    push_locked_at INTEGER,                            -- NULL = push allowed
    push_lock_reason TEXT,                             -- 'not_me' | 'denials'
    created_at     INTEGER NOT NULL,
    CHECK ((role = 'broker') = (broker_id IS NULL))
);
INSERT INTO users_v7 (id, login, display_name, password_hash, role, broker_id, email, phone,
                      interval_days, push_locked_at, push_lock_reason, created_at)
    SELECT id, login, display_name, password_hash, role, broker_id, email, phone,
           interval_days, push_locked_at, push_lock_reason, created_at
    FROM users;
DROP TABLE users;
ALTER TABLE users_v7 RENAME TO users;
CREATE INDEX users_broker ON users(broker_id);

CREATE TABLE deleted_logins (                          -- never given to a new user
    login       TEXT    PRIMARY KEY,                   -- LoginName, normalised
    user_id     INTEGER NOT NULL,                      -- the deleted user's id
    deleted_at  INTEGER NOT NULL
) WITHOUT ROWID;

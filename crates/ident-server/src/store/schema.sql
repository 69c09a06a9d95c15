-- Ident server database, schema version 1.
-- Applied by store/schema.rs inside one transaction; PRAGMA user_version = 1.
-- Times are Unix seconds. Secrets are never stored in the clear: passwords as
-- Argon2id PHC strings, API keys and enrollment tokens as SHA-256, SMS codes as
-- HMAC-SHA256 under a key derived from the server key (services/sms.rs).

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    login          TEXT    NOT NULL UNIQUE,            -- LoginName, normalised
    display_name   TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL,                   -- Argon2id PHC string
    role           TEXT    NOT NULL CHECK (role IN ('broker','employee','sub_broker','customer')),
    broker_id      INTEGER REFERENCES users(id),       -- NULL exactly for brokers
    email          TEXT,                               -- for customer mail
    phone          TEXT,                               -- E.164, NULL = none on file
    interval_days  INTEGER NOT NULL DEFAULT 0 CHECK (interval_days BETWEEN 0 AND 90),
    push_locked_at INTEGER,                            -- NULL = push allowed
    push_lock_reason TEXT,                             -- 'not_me' | 'denials'
    created_at     INTEGER NOT NULL,
    CHECK ((role = 'broker') = (broker_id IS NULL))
);
CREATE INDEX users_broker ON users(broker_id);

CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    key_hash    BLOB    NOT NULL UNIQUE,               -- SHA-256 of the key
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);

CREATE TABLE server_keys (
    kid         TEXT    PRIMARY KEY,
    pkcs8       BLOB    NOT NULL,                      -- the server's signing key
    created_at  INTEGER NOT NULL,
    retired_at  INTEGER                                -- NULL = the active key
);

CREATE TABLE enrollments (
    id            INTEGER PRIMARY KEY,
    token_hash    BLOB    NOT NULL UNIQUE,             -- SHA-256 of the one-time token
    user_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    used_at       INTEGER,                             -- set once, atomically
    device_id     TEXT                                 -- the device it produced
);

CREATE TABLE devices (
    id             TEXT    PRIMARY KEY,                -- DeviceId, random
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    jwk            TEXT    NOT NULL,                   -- device public key (JSON)
    name           TEXT    NOT NULL,
    platform       TEXT    NOT NULL,
    push_provider  TEXT    NOT NULL DEFAULT 'none',    -- none | fcm | apns
    push_token     TEXT,
    status         TEXT    NOT NULL CHECK (status IN ('pending_sms','active')),
    sms_code_hash  BLOB,                               -- enrollment SMS confirmation
    sms_expires_at INTEGER,
    sms_tries      INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    last_used_at   INTEGER
);
CREATE INDEX devices_user ON devices(user_id);

CREATE TABLE proof_jtis (                              -- replay window for Ident-Proof
    jti         TEXT    PRIMARY KEY,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX proof_jtis_expiry ON proof_jtis(expires_at);

CREATE TABLE auth_txns (                               -- one login's second factor
    id           TEXT    PRIMARY KEY,                  -- txn id, random
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    method       TEXT    NOT NULL CHECK (method IN ('push','sms','trusted')),
    status       TEXT    NOT NULL CHECK (status IN ('pending','approved','denied','expired','locked')),
    number       TEXT,                                 -- number matching, shown on the login page
    ip           TEXT    NOT NULL,
    user_agent   TEXT    NOT NULL,
    service      TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    decided_at   INTEGER,
    trust_token  TEXT                                  -- issued on approval when the interval > 0
);
CREATE INDEX auth_txns_user_status ON auth_txns(user_id, status);

CREATE TABLE challenges (                              -- one per device per push txn
    id           TEXT    PRIMARY KEY,                  -- ChallengeId = the JWS jti
    txn_id       TEXT    NOT NULL REFERENCES auth_txns(id) ON DELETE CASCADE,
    device_id    TEXT    NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
    token        TEXT    NOT NULL,                     -- the signed challenge JWS
    expires_at   INTEGER NOT NULL,
    answered_at  INTEGER,                              -- set once, atomically
    decision     TEXT                                  -- approve | deny | wrong_number
);
CREATE INDEX challenges_device_open ON challenges(device_id, answered_at);

CREATE TABLE sms_codes (                               -- SMS fallback login codes
    txn_id      TEXT    PRIMARY KEY REFERENCES auth_txns(id) ON DELETE CASCADE,
    code_hash   BLOB    NOT NULL,
    expires_at  INTEGER NOT NULL,
    tries       INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE sms_ledger (                              -- every SMS sent, charged to a broker
    id            INTEGER PRIMARY KEY,
    broker_id     INTEGER NOT NULL REFERENCES users(id),
    user_id       INTEGER NOT NULL,                    -- kept if the user is deleted
    user_login    TEXT    NOT NULL,
    phone_masked  TEXT    NOT NULL,
    purpose       TEXT    NOT NULL CHECK (purpose IN ('login','enrollment')),
    sent_at       INTEGER NOT NULL,
    net_cents     INTEGER NOT NULL,                    -- 10 = 0.10 EUR
    vat_bp        INTEGER NOT NULL                     -- 1900 = 19 %
);
CREATE INDEX sms_ledger_broker_time ON sms_ledger(broker_id, sent_at);

CREATE TABLE denials (                                 -- for "3 denials in 10 minutes"
    id        INTEGER PRIMARY KEY,
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    at        INTEGER NOT NULL,
    kind      TEXT    NOT NULL CHECK (kind IN ('deny','wrong_number','not_me'))
);
CREATE INDEX denials_user_time ON denials(user_id, at);

CREATE TABLE trusted_browsers (                        -- trust tokens issued under the 2FA interval
    id          TEXT    PRIMARY KEY,                   -- the token's jti
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    user_agent  TEXT    NOT NULL,
    ip          TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX trusted_browsers_user ON trusted_browsers(user_id);

CREATE TABLE audit (                                   -- who did what, when; never a secret
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,                      -- 'api-key:<name>', 'user:<login>', 'device:<id>', 'system', 'admin-cli'
    action      TEXT    NOT NULL,                      -- e.g. 'enrollment.completed'
    user_id     INTEGER,                               -- the user affected
    detail      TEXT    NOT NULL DEFAULT '{}'          -- JSON, no secrets
);
CREATE INDEX audit_user_time ON audit(user_id, at);

-- Wrong-password limit of POST /api/v1/login/password (routes/rp_users.rs,
-- store/sqlite/users.rs). One row per counted attempt, written *before* the
-- password is checked and deleted after a correct one; keyed by the login as
-- typed (normalised) whether or not it exists, so the limit reveals nothing.
CREATE TABLE password_attempts (
    id          INTEGER PRIMARY KEY,
    login       TEXT    NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX password_attempts_login_time ON password_attempts(login, at);

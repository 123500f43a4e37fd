-- +goose Up
-- Identity: users and their client/team scope, MFA, sessions, API tokens,
-- login throttling and encrypted secrets.
-- No secret is ever stored in clear: passwords are argon2id hashes, session
-- ids and API tokens are SHA-256 digests of what the client holds, TOTP seeds
-- and other secrets are sealed with the master key (internal/secret).

CREATE TABLE users (
    id                    AUTOID,
    username              TEXT NOT NULL UNIQUE,         -- lower-case
    email                 TEXT NOT NULL DEFAULT '',     -- lower-case
    display_name          TEXT NOT NULL DEFAULT '',
    role                  TEXT NOT NULL,                -- identity.Role
    person_id             BIGINT REFERENCES people(id),
    all_clients           BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash         TEXT NOT NULL DEFAULT '',     -- argon2id PHC string; '' = no local password (SSO only)
    totp_secret           BLOB,                         -- sealed TOTP seed (pending or confirmed); NULL = none
    totp_enabled          BOOLEAN NOT NULL DEFAULT FALSE,
    totp_last_step        BIGINT NOT NULL DEFAULT 0,    -- last accepted TOTP time step (reuse is refused)
    locale                TEXT NOT NULL DEFAULT '',     -- '' = browser language
    active                BOOLEAN NOT NULL DEFAULT TRUE,
    must_change_password  BOOLEAN NOT NULL DEFAULT FALSE,
    oidc_issuer           TEXT NOT NULL DEFAULT '',
    oidc_subject          TEXT NOT NULL DEFAULT '',
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    last_login_at         TEXT
);
CREATE INDEX users_person ON users(person_id);
CREATE INDEX users_oidc ON users(oidc_issuer, oidc_subject);

-- user_clients: the clients a user not scoped to all clients may see.
CREATE TABLE user_clients (
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id  BIGINT NOT NULL REFERENCES clients(id),
    PRIMARY KEY (user_id, client_id)
);
CREATE INDEX user_clients_client ON user_clients(client_id);

-- user_teams: the teams a supervisor supervises.
CREATE TABLE user_teams (
    user_id  BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    team_id  BIGINT NOT NULL REFERENCES teams(id),
    PRIMARY KEY (user_id, team_id)
);
CREATE INDEX user_teams_team ON user_teams(team_id);

-- recovery_codes: single-use MFA recovery codes, stored hashed.
CREATE TABLE recovery_codes (
    id         AUTOID,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,                      -- hex SHA-256 of the normalized code
    used_at    TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);

-- sessions: browser sessions. id is the hex SHA-256 of the cookie token.
CREATE TABLE sessions (
    id            TEXT NOT NULL PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at    TEXT NOT NULL,
    last_seen_at  TEXT NOT NULL,
    expires_at    TEXT NOT NULL,                   -- absolute expiry
    ip            TEXT NOT NULL DEFAULT '',
    user_agent    TEXT NOT NULL DEFAULT '',
    mfa_passed    BOOLEAN NOT NULL DEFAULT FALSE,
    csrf_secret   BLOB NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);

-- api_tokens: integration tokens; only the SHA-256 of the token is kept.
CREATE TABLE api_tokens (
    id            AUTOID,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,            -- hex SHA-256 of the full token
    prefix        TEXT NOT NULL,                   -- first characters, for display
    role          TEXT NOT NULL,
    all_clients   BOOLEAN NOT NULL DEFAULT FALSE,
    created_by    BIGINT REFERENCES users(id),
    created_at    TEXT NOT NULL,
    expires_at    TEXT,
    last_used_at  TEXT,
    revoked_at    TEXT
);
CREATE INDEX api_tokens_created_by ON api_tokens(created_by);

CREATE TABLE api_token_clients (
    token_id   BIGINT NOT NULL REFERENCES api_tokens(id) ON DELETE CASCADE,
    client_id  BIGINT NOT NULL REFERENCES clients(id),
    PRIMARY KEY (token_id, client_id)
);

-- login_attempts: failure counters for throttling, keyed 'user:NAME' or 'ip:ADDR'.
CREATE TABLE login_attempts (
    key           TEXT NOT NULL PRIMARY KEY,
    failures      BIGINT NOT NULL DEFAULT 0,       -- failures in the current window
    window_start  TEXT NOT NULL,
    locked_until  TEXT,
    lockouts      BIGINT NOT NULL DEFAULT 0,       -- consecutive lockouts (the delay grows)
    updated_at    TEXT NOT NULL
);

-- secrets: named secrets (SMTP password, OIDC client secret …), sealed.
CREATE TABLE secrets (
    id          AUTOID,
    name        TEXT NOT NULL UNIQUE,
    ciphertext  BLOB NOT NULL,
    key_id      TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- +goose Down
DROP TABLE secrets;
DROP TABLE login_attempts;
DROP TABLE api_token_clients;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE recovery_codes;
DROP TABLE user_teams;
DROP TABLE user_clients;
DROP TABLE users;

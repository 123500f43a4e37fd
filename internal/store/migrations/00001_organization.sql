-- +goose Up
-- The organization model: the operator (the contact center itself, one row),
-- its clients (the brands it serves: the tenant boundary), sites, teams and people.

CREATE TABLE operator (
    id          INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE clients (
    id          AUTOID,
    code        TEXT NOT NULL UNIQUE,          -- short lower-case slug, e.g. "bankx"
    name        TEXT NOT NULL,
    name_lower  TEXT NOT NULL,
    sector      TEXT NOT NULL DEFAULT '',      -- e.g. banking, telco, insurance
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE sites (
    id          AUTOID,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    city        TEXT NOT NULL DEFAULT '',
    country     TEXT NOT NULL DEFAULT '',
    timezone    TEXT NOT NULL DEFAULT 'UTC',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE teams (
    id          AUTOID,
    site_id     BIGINT NOT NULL REFERENCES sites(id),
    client_id   BIGINT REFERENCES clients(id),   -- the campaign's client; NULL for internal teams
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX teams_site ON teams(site_id);
CREATE INDEX teams_client ON teams(client_id);

CREATE TABLE people (
    id            AUTOID,
    employee_id   TEXT NOT NULL UNIQUE,
    full_name     TEXT NOT NULL,
    email         TEXT NOT NULL,               -- stored lower-cased
    search_text   TEXT NOT NULL,               -- lower-cased employee id, name and email for LIKE search
    job_role      TEXT NOT NULL DEFAULT 'agent',
    site_id       BIGINT REFERENCES sites(id),
    team_id       BIGINT REFERENCES teams(id),
    start_date    TEXT,                        -- YYYY-MM-DD
    leave_date    TEXT,                        -- YYYY-MM-DD
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX people_email ON people(email);
CREATE INDEX people_team ON people(team_id);
CREATE INDEX people_site ON people(site_id);
CREATE INDEX people_active_name ON people(active, full_name);

-- person_clients: the clients a person works for.
CREATE TABLE person_clients (
    person_id   BIGINT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    client_id   BIGINT NOT NULL REFERENCES clients(id),
    PRIMARY KEY (person_id, client_id)
);
CREATE INDEX person_clients_client ON person_clients(client_id);

-- +goose Down
DROP TABLE person_clients;
DROP TABLE people;
DROP TABLE teams;
DROP TABLE sites;
DROP TABLE clients;
DROP TABLE operator;

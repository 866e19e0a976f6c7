-- 0001: base tables. Timestamps are REAL Unix seconds (UTC); Discord ids are INTEGER;
-- requests, specs and timings are JSON text that storage never interprets.

CREATE TABLE users (
    id               INTEGER PRIMARY KEY,             -- Discord user id
    name             TEXT    NOT NULL DEFAULT '',
    preferences_json TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(preferences_json)),
    created_at       REAL    NOT NULL,
    updated_at       REAL    NOT NULL
);

CREATE TABLE guilds (
    id            INTEGER PRIMARY KEY,                -- Discord guild id
    name          TEXT    NOT NULL DEFAULT '',
    settings_json TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(settings_json)),
    created_at    REAL    NOT NULL,
    updated_at    REAL    NOT NULL
);

-- AUTOINCREMENT: ids never reused, so keyset paging by id is stable after deletes.
CREATE TABLE compositions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    guild_id       INTEGER REFERENCES guilds(id) ON DELETE SET NULL,  -- NULL: DM or CLI
    channel_id     INTEGER,
    prompt         TEXT    NOT NULL,
    request_json   TEXT    NOT NULL CHECK (json_valid(request_json)),
    seed           INTEGER,
    engine         TEXT    NOT NULL DEFAULT '',
    checkpoint     TEXT,
    engine_version TEXT,
    description    TEXT    NOT NULL DEFAULT '',
    timings_json   TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(timings_json)),
    created_at     REAL    NOT NULL
);
CREATE INDEX compositions_by_owner ON compositions(owner_id, id);
CREATE INDEX compositions_by_guild ON compositions(guild_id, id);

CREATE TABLE composition_files (
    composition_id INTEGER NOT NULL REFERENCES compositions(id) ON DELETE CASCADE,
    kind           TEXT    NOT NULL,                  -- midi, audio, image, text, stem:vocals, ...
    path           TEXT    NOT NULL,                  -- relative to MUSE_DATA_DIR
    sha256         TEXT    NOT NULL CHECK (length(sha256) = 64),
    size_bytes     INTEGER NOT NULL CHECK (size_bytes >= 0),
    PRIMARY KEY (composition_id, kind)
) WITHOUT ROWID;
CREATE INDEX composition_files_by_sha ON composition_files(sha256);

CREATE TABLE themes (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id       INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    guild_id       INTEGER REFERENCES guilds(id) ON DELETE SET NULL,
    name           TEXT    NOT NULL COLLATE NOCASE,
    visibility     TEXT    NOT NULL DEFAULT 'private'
                           CHECK (visibility IN ('private', 'guild', 'public')),
    share_code     TEXT    NOT NULL UNIQUE,           -- from `secrets`, >= 64 bits
    spec_json      TEXT    NOT NULL CHECK (json_valid(spec_json)),
    schema_version INTEGER NOT NULL,
    created_at     REAL    NOT NULL,
    updated_at     REAL    NOT NULL,
    UNIQUE (owner_id, name)
);
CREATE INDEX themes_by_guild ON themes(guild_id, visibility);

CREATE TABLE jam_schedules (
    guild_id         INTEGER PRIMARY KEY REFERENCES guilds(id) ON DELETE CASCADE,
    channel_id       INTEGER NOT NULL,
    time_of_day      TEXT    NOT NULL CHECK (time_of_day GLOB '[0-2][0-9]:[0-5][0-9]'),
    timezone         TEXT    NOT NULL,                -- IANA name
    theme_pool_json  TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(theme_pool_json)),
    enabled          INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_by       INTEGER,
    created_at       REAL    NOT NULL,
    updated_at       REAL    NOT NULL
);

CREATE TABLE jam_rounds (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id   INTEGER NOT NULL REFERENCES guilds(id) ON DELETE CASCADE,
    round_key  TEXT    NOT NULL,                      -- local date: one round per day per guild
    channel_id INTEGER NOT NULL,
    prompt     TEXT    NOT NULL,
    theme      TEXT,
    message_id INTEGER,
    opens_at   REAL    NOT NULL,
    closes_at  REAL    NOT NULL,
    closed     INTEGER NOT NULL DEFAULT 0 CHECK (closed IN (0, 1)),
    UNIQUE (guild_id, round_key)
);

CREATE TABLE jam_entries (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    round_id       INTEGER NOT NULL REFERENCES jam_rounds(id) ON DELETE CASCADE,
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    composition_id INTEGER REFERENCES compositions(id) ON DELETE SET NULL,
    message_id     INTEGER,
    created_at     REAL    NOT NULL,
    UNIQUE (round_id, user_id)
);

-- One vote per member per round; voting again moves the vote.
CREATE TABLE jam_votes (
    round_id   INTEGER NOT NULL REFERENCES jam_rounds(id) ON DELETE CASCADE,
    voter_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    entry_id   INTEGER NOT NULL REFERENCES jam_entries(id) ON DELETE CASCADE,
    created_at REAL    NOT NULL,
    PRIMARY KEY (round_id, voter_id)
) WITHOUT ROWID;
CREATE INDEX jam_votes_by_entry ON jam_votes(entry_id);

CREATE TABLE jobs (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    kind              TEXT    NOT NULL DEFAULT 'compose',
    status            TEXT    NOT NULL DEFAULT 'queued'
                              CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    payload_json      TEXT    NOT NULL CHECK (json_valid(payload_json)),
    requester_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    guild_id          INTEGER,
    channel_id        INTEGER,                        -- redelivery target once the token expires
    interaction_token TEXT,
    token_expires_at  REAL,
    attempts          INTEGER NOT NULL DEFAULT 0,
    error             TEXT,
    composition_id    INTEGER REFERENCES compositions(id) ON DELETE SET NULL,
    created_at        REAL    NOT NULL,
    started_at        REAL,
    finished_at       REAL
);
CREATE INDEX jobs_by_status ON jobs(status, id);

-- What a service needs to publish from its store and to take others' events
-- once in effect. Runs with search_path set to the service's schema.

-- How far the relay has published, in the store's commit-safe order.
CREATE TABLE relay_checkpoint (
    relay        text        PRIMARY KEY,
    tx_id        bigint      NOT NULL DEFAULT 0,
    position     bigint      NOT NULL DEFAULT 0,
    published    bigint      NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO relay_checkpoint (relay) VALUES ('outbox');

-- Events of other services this one has handled: written in the same
-- transaction as the handler's effects, so a redelivered event is a no-op.
CREATE TABLE inbox (
    event_id     uuid        NOT NULL,
    handler      text        NOT NULL,
    source       text        NOT NULL,
    type         text        NOT NULL,
    stream_id    text        NOT NULL,
    version      bigint      NOT NULL,
    handled_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, handler)
);

-- Events a handler kept failing on, with the whole envelope so they can be replayed.
CREATE TABLE dead_letters (
    id             bigserial   PRIMARY KEY,
    event_id       uuid,
    handler        text        NOT NULL,
    source         text        NOT NULL,
    type           text,
    envelope       jsonb       NOT NULL,
    error_type     text        NOT NULL,
    error          text        NOT NULL,
    attempts       integer     NOT NULL,
    failed_at      timestamptz NOT NULL DEFAULT now(),
    status         text        NOT NULL DEFAULT 'dead' CHECK (status IN ('dead', 'replayed')),
    replayed_at    timestamptz
);
CREATE UNIQUE INDEX dead_letters_open ON dead_letters (event_id, handler) WHERE status = 'dead';

-- Each projection's place in the store, updated in the same transaction as its rows.
CREATE TABLE projection_checkpoints (
    projection   text        PRIMARY KEY,
    tx_id        bigint      NOT NULL DEFAULT 0,
    position     bigint      NOT NULL DEFAULT 0,
    applied      bigint      NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Events a projection kept failing on: set aside after a few attempts, so that
-- the projection goes on with the events after them instead of retrying one
-- for ever. orgctl lists them and retries one once the code is fixed.
CREATE TABLE parked_events (
    id          bigserial   PRIMARY KEY,
    projection  text        NOT NULL,
    event_id    uuid        NOT NULL,
    tx_id       bigint      NOT NULL,
    position    bigint      NOT NULL,
    type        text        NOT NULL,
    error_type  text        NOT NULL,
    error       text        NOT NULL,
    attempts    integer     NOT NULL,
    parked_at   timestamptz NOT NULL DEFAULT now(),
    status      text        NOT NULL DEFAULT 'parked' CHECK (status IN ('parked', 'retried')),
    retried_at  timestamptz,
    UNIQUE (projection, event_id)
);

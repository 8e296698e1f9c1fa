-- The feedback service's read models (services/feedback/projections.py) and
-- the notices it has heard of from the cadre service (services/feedback/service.py).

CREATE TABLE submissions (
    submission_id    text        PRIMARY KEY,
    receipt_hash     text        NOT NULL UNIQUE,
    channel          text        NOT NULL,
    category         text        NOT NULL,
    status           text        NOT NULL,
    received_at      timestamptz NOT NULL,
    first_reply_due  timestamptz NOT NULL,
    resolution_due   timestamptz NOT NULL,
    replies          jsonb       NOT NULL DEFAULT '[]',
    breaches         jsonb       NOT NULL DEFAULT '[]',
    rating           integer,
    closed_at        timestamptz
);
CREATE INDEX submissions_open_by_due ON submissions (status, first_reply_due, resolution_due);

CREATE TABLE feedback_statistics (
    channel       text    NOT NULL,
    category      text    NOT NULL,
    received      integer NOT NULL DEFAULT 0,
    closed        integer NOT NULL DEFAULT 0,
    breaches      integer NOT NULL DEFAULT 0,
    rating_sum    integer NOT NULL DEFAULT 0,
    rating_count  integer NOT NULL DEFAULT 0,
    PRIMARY KEY (channel, category)
);

-- The statistics projection's own note of each submission's channel and category
-- (a projection never reads another projection's tables).
CREATE TABLE statistics_submissions (
    submission_id text PRIMARY KEY,
    channel       text NOT NULL,
    category      text NOT NULL
);

CREATE TABLE known_notices (
    notice_id       text        PRIMARY KEY,
    process_id      text        NOT NULL,
    kind            text        NOT NULL,
    title           text        NOT NULL,
    cadre_ids       jsonb       NOT NULL,
    opens_at        timestamptz NOT NULL,
    closes_at       timestamptz NOT NULL,
    correlation_id  text,
    event_id        text        NOT NULL
);
CREATE INDEX known_notices_by_closing ON known_notices (closes_at);

-- The open statistics (the public site's /statistics): by the month a submission was
-- received (the organisation's time, UTC+8) and its channel, how many came in, how many
-- had their first reply and their resolution, how many of those on time, and the ratings.
-- A new projection (monthly), replayed from the first event.
CREATE TABLE feedback_monthly (
    month             date    NOT NULL,
    channel           text    NOT NULL,
    received          integer NOT NULL DEFAULT 0,
    replied           integer NOT NULL DEFAULT 0,
    replied_on_time   integer NOT NULL DEFAULT 0,
    resolved          integer NOT NULL DEFAULT 0,
    resolved_on_time  integer NOT NULL DEFAULT 0,
    ratings           integer NOT NULL DEFAULT 0,
    rating_sum        integer NOT NULL DEFAULT 0,
    PRIMARY KEY (month, channel)
);

-- Each submission's month, channel and deadlines, and whether it is counted as replied,
-- resolved and rated yet.
CREATE TABLE monthly_submissions (
    submission_id    text        PRIMARY KEY,
    month            date        NOT NULL,
    channel          text        NOT NULL,
    first_reply_due  timestamptz NOT NULL,
    resolution_due   timestamptz NOT NULL,
    replied          boolean     NOT NULL DEFAULT false,
    resolved         boolean     NOT NULL DEFAULT false,
    rating           integer
);

-- Counters for rate limits (shared/runtime/ratelimit.py): one row per key and window.
CREATE TABLE rate_limits (
    key           text        NOT NULL,
    window_start  timestamptz NOT NULL,
    hits          integer     NOT NULL,
    PRIMARY KEY (key, window_start)
);

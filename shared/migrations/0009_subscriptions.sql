-- Where each of this service's subscriptions stands in its source's store:
-- every event of the source before this cursor (in the source's commit-safe
-- order), of a type this service handles, has been handled here or
-- dead-lettered. A subscription that starts (or finds its queue lost) reads
-- the source's store from here before it takes live deliveries again.
CREATE TABLE subscriptions (
    source        text        PRIMARY KEY,
    tx_id         bigint      NOT NULL DEFAULT 0,
    position      bigint      NOT NULL DEFAULT 0,
    caught_up_at  timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

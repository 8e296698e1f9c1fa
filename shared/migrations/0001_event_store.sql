-- The event store of one service: an append-only log in the service's own schema.
-- Runs with search_path set to that schema (see shared/db/migrations.py).

-- Positions come from a sequence, so they are unique and increase within a
-- transaction, but concurrent transactions commit out of position order.
-- Readers therefore follow (tx_id, position), never position alone: see
-- shared/eventstore/store.py for why that order never skips an event.
CREATE SEQUENCE event_position AS bigint;

CREATE TABLE events (
    position        bigint      PRIMARY KEY,
    tx_id           xid8        NOT NULL DEFAULT pg_current_xact_id(),
    stream_id       text        NOT NULL,
    version         bigint      NOT NULL CHECK (version > 0),
    event_id        uuid        NOT NULL,
    type            text        NOT NULL,
    schema_version  integer     NOT NULL CHECK (schema_version > 0),
    data            jsonb       NOT NULL,
    metadata        jsonb       NOT NULL,
    prev_hash       bytea       NOT NULL CHECK (length(prev_hash) = 32),
    hash            bytea       NOT NULL CHECK (length(hash) = 32),
    CONSTRAINT events_stream_version UNIQUE (stream_id, version),
    CONSTRAINT events_event_id UNIQUE (event_id)
);

-- The commit-safe global order.
CREATE INDEX events_commit_order ON events (tx_id, position);

COMMENT ON TABLE events IS
  'Append-only event log. UPDATE, DELETE and TRUNCATE are refused by triggers; '
  'hash = sha256 of the canonical record, chained to prev_hash (the previous event of the same stream).';

-- Append-only, enforced by the database itself (superusers included, unless
-- they disable the triggers, which is what the hash chain is there to catch).
CREATE FUNCTION refuse_event_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log %.% is append-only: % is not allowed',
        TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'OW003';
END;
$$;

CREATE TRIGGER events_no_update_or_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION refuse_event_change();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_event_change();

-- Append events to one stream, atomically, in one round trip.
--
-- p_expected is the version the caller last saw (0: the stream must not exist
-- yet; -1: any). A mismatch raises SQLSTATE OW001 with the actual version in
-- DETAIL. Two writers that both pass the check race on the unique
-- (stream_id, version): the loser waits for the winner to commit and then gets
-- unique_violation, which the client reports as the same conflict.
--
-- The hash of each event is computed here, from the exact canonical JSON text
-- the client sent, so the stored chain is right from the first event. The
-- Python mirror is shared.eventstore.hashing.event_hash; keep them together.
CREATE FUNCTION append_events(
    p_stream_id       text,
    p_expected        bigint,
    p_event_ids       uuid[],
    p_types           text[],
    p_schema_versions integer[],
    p_data            text[],
    p_metadata        text[]
) RETURNS TABLE (out_position bigint, out_version bigint, out_tx_id bigint, out_prev_hash bytea, out_hash bytea)
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
    v_version bigint;
    v_prev    bytea;
    v_hash    bytea;
    v_pos     bigint;
    v_tx      bigint := pg_current_xact_id()::text::bigint;
BEGIN
    SELECT e.version, e.hash INTO v_version, v_prev
      FROM events e
     WHERE e.stream_id = p_stream_id
     ORDER BY e.version DESC
     LIMIT 1;
    IF NOT FOUND THEN
        v_version := 0;
        v_prev := decode(repeat('00', 32), 'hex');
    END IF;

    IF p_expected <> -1 AND p_expected <> v_version THEN
        RAISE EXCEPTION 'concurrency conflict on stream %', p_stream_id
            USING ERRCODE = 'OW001', DETAIL = v_version::text;
    END IF;

    FOR i IN 1 .. coalesce(array_length(p_event_ids, 1), 0) LOOP
        v_version := v_version + 1;
        v_pos := nextval('event_position');
        v_hash := sha256(convert_to(concat_ws(E'\n',
            'orgwork-event-v1',
            v_pos::text,
            p_stream_id,
            v_version::text,
            p_event_ids[i]::text,
            p_types[i],
            p_schema_versions[i]::text,
            p_data[i],
            p_metadata[i],
            encode(v_prev, 'hex')), 'UTF8'));

        INSERT INTO events (position, stream_id, version, event_id, type, schema_version,
                            data, metadata, prev_hash, hash)
        VALUES (v_pos, p_stream_id, v_version, p_event_ids[i], p_types[i], p_schema_versions[i],
                p_data[i]::jsonb, p_metadata[i]::jsonb, v_prev, v_hash);

        out_position := v_pos;
        out_version := v_version;
        out_tx_id := v_tx;
        out_prev_hash := v_prev;
        out_hash := v_hash;
        RETURN NEXT;
        v_prev := v_hash;
    END LOOP;
END;
$$;

-- Snapshots are a cache of an aggregate's state, never the truth: keyed by the
-- aggregate's state version and a fingerprint of its state's shape, so a model
-- that changed ignores old snapshots and rebuilds from events instead.
CREATE TABLE snapshots (
    stream_id      text        NOT NULL,
    state_version  integer     NOT NULL,
    fingerprint    text        NOT NULL,
    version        bigint      NOT NULL,
    state          jsonb       NOT NULL,
    taken_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stream_id, state_version, fingerprint)
);

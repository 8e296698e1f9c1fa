-- Appending one event, the common case, with less work per call (docs/BENCHMARKS.md, P1).
-- Counted with valgrind on a single-user server, a one-event append_events (0008)
-- costs about 600,000 instructions against 380,000 for a plain INSERT of the same
-- row; this function costs about 500,000:
-- * scalar arguments: building, parsing and subscripting one-element arrays cost
--   the server about 100,000 instructions per call, more than the lock and the
--   hash together;
-- * the position is drawn, the hash computed and the row inserted by one
--   INSERT ... SELECT, with the results taken from its RETURNING.
-- Same contract, errors and hashes as append_events, which now appends its
-- events one by one through this function, so that the rules live in one place.
-- @schema@ is replaced with the service's quoted schema name by the migrator.
CREATE FUNCTION @schema@.append_event(
    p_stream_id       text,
    p_expected        bigint,
    p_event_id        uuid,
    p_type            text,
    p_schema_version  integer,
    p_data            text,
    p_metadata        text,
    OUT out_position  bigint,
    OUT out_version   bigint,
    OUT out_tx_id     bigint,
    OUT out_prev_hash bytea,
    OUT out_hash      bytea
)
LANGUAGE plpgsql
AS $$
DECLARE
    v_last_tx xid8;
BEGIN
    -- An event writer takes the writer lock before it has a transaction id
    -- (pg_current_xact_id() below gives it one): see 0008.
    PERFORM @schema@.begin_writing();
    out_version := 0;
    out_prev_hash := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
    IF p_expected <> 0 THEN
        -- A new stream (expected version 0) skips this: the unique (stream_id, version) refuses it if it exists.
        SELECT e.version, e.hash, e.tx_id INTO out_version, out_prev_hash, v_last_tx
          FROM @schema@.events e
         WHERE e.stream_id = p_stream_id
         ORDER BY e.version DESC
         LIMIT 1;
        IF NOT FOUND THEN
            out_version := 0;
            out_prev_hash := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
        ELSIF v_last_tx > pg_current_xact_id() THEN
            RAISE EXCEPTION 'stream % was last written by a newer transaction', p_stream_id
                USING ERRCODE = 'OW002', DETAIL = out_version::text;
        END IF;
        IF p_expected <> -1 AND p_expected <> out_version THEN
            RAISE EXCEPTION 'concurrency conflict on stream %', p_stream_id
                USING ERRCODE = 'OW001', DETAIL = out_version::text;
        END IF;
    END IF;
    out_version := out_version + 1;

    -- The hash: shared.eventstore.hashing.event_hash is the same formula in Python.
    INSERT INTO @schema@.events AS e (position, tx_id, stream_id, version, event_id, type, schema_version,
                                      data, metadata, prev_hash, hash)
    SELECT n.position, pg_current_xact_id(), p_stream_id, out_version, p_event_id, p_type, p_schema_version,
           p_data::jsonb, p_metadata::jsonb, out_prev_hash,
           sha256(convert_to(concat_ws(E'\n',
               'orgwork-event-v1',
               n.position::text,
               p_stream_id,
               out_version::text,
               p_event_id::text,
               p_type,
               p_schema_version::text,
               p_data,
               p_metadata,
               encode(out_prev_hash, 'hex')), 'UTF8'))
      FROM (SELECT nextval('@schema@.event_position') AS position) n
    RETURNING e.position, e.tx_id::text::bigint, e.hash INTO out_position, out_tx_id, out_hash;
END;
$$;

-- Several events: one append_event each, chained. After the first, each event's
-- expected version is the one just written, so a concurrent append still fails
-- on the first event (or on the unique key), as before.
CREATE OR REPLACE FUNCTION @schema@.append_events(
    p_stream_id       text,
    p_expected        bigint,
    p_event_ids       uuid[],
    p_types           text[],
    p_schema_versions integer[],
    p_data            text[],
    p_metadata        text[]
) RETURNS TABLE (out_position bigint, out_version bigint, out_tx_id bigint, out_prev_hash bytea, out_hash bytea)
LANGUAGE plpgsql
AS $$
DECLARE
    v_expected bigint := p_expected;
    v_event    record;
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_event_ids, 1), 0) LOOP
        -- An assignment, not a SELECT ... INTO: PL/pgSQL evaluates it without a query of its own.
        v_event := @schema@.append_event(p_stream_id, v_expected, p_event_ids[i], p_types[i], p_schema_versions[i],
                                         p_data[i], p_metadata[i]);
        out_position := v_event.out_position;
        out_version := v_event.out_version;
        out_tx_id := v_event.out_tx_id;
        out_prev_hash := v_event.out_prev_hash;
        out_hash := v_event.out_hash;
        RETURN NEXT;
        v_expected := out_version;
    END LOOP;
END;
$$;

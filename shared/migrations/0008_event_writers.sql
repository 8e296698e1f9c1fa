-- The store's readers wait only for transactions that may append events, not
-- for every transaction on the server (shared/eventstore/store.py explains why
-- this never skips an event). A transaction becomes an event writer by taking
-- its store's writer lock, a shared transaction-level advisory lock, BEFORE it
-- has a transaction id; a reader bounds what it reads by the oldest
-- transaction id among the lock's holders, not by pg_snapshot_xmin, which any
-- transaction in any database holds back.
-- @schema@ is replaced with the service's quoted schema name by the migrator.

-- The second key of the store's writer lock (the first is 28535, "ow").
CREATE OR REPLACE FUNCTION @schema@.writer_lock_key() RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$ SELECT hashtext('orgwork.writers.' || replace('@schema@', '"', '')) $$;

-- Make this transaction an event writer of the store (idempotent). Must come
-- before the transaction's first write: a transaction that already has an id
-- is refused (OW004), since a reader may already have read past that id.
CREATE OR REPLACE FUNCTION @schema@.begin_writing() RETURNS void
LANGUAGE plpgsql
AS $$
BEGIN
    IF current_setting('orgwork.writer_' || replace('@schema@', '"', ''), true) = 'on' THEN
        RETURN;
    END IF;
    IF pg_current_xact_id_if_assigned() IS NOT NULL THEN
        RAISE EXCEPTION 'this transaction wrote before it became an event writer of %', '@schema@'
            USING ERRCODE = 'OW004',
                  HINT = 'begin the transaction with begin_writing() before its first write';
    END IF;
    PERFORM pg_advisory_xact_lock_shared(28535, @schema@.writer_lock_key());
    PERFORM set_config('orgwork.writer_' || replace('@schema@', '"', ''), 'on', true);
END;
$$;

-- The read horizon: no event with a smaller tx_id can commit after this call.
-- The oldest transaction id among the writer lock's holders, capped by the
-- first id not yet assigned (xmax of this statement's snapshot). pg_locks gives
-- 32-bit ids: each is read as the 64-bit id nearest below xmax (ids are
-- compared in a 2^31 window, as PostgreSQL does); an id assigned after the
-- snapshot (at or past xmax) cannot lower the horizon, so it counts as xmax.
CREATE OR REPLACE FUNCTION @schema@.read_horizon() RETURNS xid8
LANGUAGE sql VOLATILE
AS $$
    WITH snapshot AS (
        SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax
    ), writers AS (
        SELECT t.transactionid::text::bigint AS xid32
          FROM pg_locks l
          JOIN pg_locks t ON t.pid = l.pid AND t.locktype = 'transactionid' AND t.mode = 'ExclusiveLock'
         WHERE l.locktype = 'advisory' AND l.granted
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND l.classid = 28535
           AND l.objid::text::bigint = (@schema@.writer_lock_key()::bigint & 4294967295)
           AND l.objsubid = 2
    ), behind AS (
        SELECT s.xmax, ((s.xmax & 4294967295) - w.xid32 + 4294967296) % 4294967296 AS distance
          FROM snapshot s LEFT JOIN writers w ON true
    )
    SELECT min(CASE WHEN distance IS NOT NULL AND distance <= 2147483648 THEN xmax - distance ELSE xmax END)
           ::text::xid8
      FROM behind
$$;

-- The next events after a cursor in commit-safe order, below the horizon, in
-- one round trip. VOLATILE: at READ COMMITTED each statement in it takes a new
-- snapshot, so the events are read in a later snapshot than the horizon.
CREATE OR REPLACE FUNCTION @schema@.read_after(p_tx bigint, p_position bigint, p_limit integer)
RETURNS TABLE (out_position bigint, out_tx_id bigint, out_stream_id text, out_version bigint, out_event_id text,
               out_type text, out_schema_version integer, out_data jsonb, out_metadata jsonb, out_prev_hash bytea,
               out_hash bytea)
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_horizon xid8;
BEGIN
    v_horizon := @schema@.read_horizon();
    RETURN QUERY
        SELECT e.position, e.tx_id::text::bigint, e.stream_id, e.version, e.event_id::text, e.type,
               e.schema_version, e.data, e.metadata, e.prev_hash, e.hash
          FROM @schema@.events e
         WHERE (e.tx_id, e.position) > (p_tx::text::xid8, p_position)
           AND e.tx_id < v_horizon
         ORDER BY e.tx_id, e.position
         LIMIT p_limit;
END;
$$;

-- append_events as in 0006, but an event writer first: it takes the writer
-- lock before its transaction id.
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
    v_version bigint := 0;
    v_prev    bytea := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
    v_hash    bytea;
    v_pos     bigint;
    v_last_tx xid8;
    v_tx      xid8;
BEGIN
    -- An event writer takes the writer lock before it has a transaction id
    -- (pg_current_xact_id() below gives it one): see the header above.
    PERFORM @schema@.begin_writing();
    v_tx := pg_current_xact_id();
    IF p_expected <> 0 THEN
        SELECT e.version, e.hash, e.tx_id INTO v_version, v_prev, v_last_tx
          FROM @schema@.events e
         WHERE e.stream_id = p_stream_id
         ORDER BY e.version DESC
         LIMIT 1;
        IF NOT FOUND THEN
            v_version := 0;
            v_prev := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
        ELSIF v_last_tx > v_tx THEN
            RAISE EXCEPTION 'stream % was last written by a newer transaction', p_stream_id
                USING ERRCODE = 'OW002', DETAIL = v_version::text;
        END IF;
        IF p_expected <> -1 AND p_expected <> v_version THEN
            RAISE EXCEPTION 'concurrency conflict on stream %', p_stream_id
                USING ERRCODE = 'OW001', DETAIL = v_version::text;
        END IF;
    END IF;

    FOR i IN 1 .. coalesce(array_length(p_event_ids, 1), 0) LOOP
        v_version := v_version + 1;
        v_pos := nextval('@schema@.event_position');
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

        INSERT INTO @schema@.events (position, tx_id, stream_id, version, event_id, type, schema_version,
                                     data, metadata, prev_hash, hash)
        VALUES (v_pos, v_tx, p_stream_id, v_version, p_event_ids[i], p_types[i], p_schema_versions[i],
                p_data[i]::jsonb, p_metadata[i]::jsonb, v_prev, v_hash);

        out_position := v_pos;
        out_version := v_version;
        out_tx_id := v_tx::text::bigint;
        out_prev_hash := v_prev;
        out_hash := v_hash;
        RETURN NEXT;
        v_prev := v_hash;
    END LOOP;
END;
$$;

-- A faster append, same contract and the same hashes as before (0001, 0004):
-- * names qualified with the service's schema instead of a per-call search_path;
-- * a new stream (expected version 0) skips the lookup of its last event: the
--   unique (stream_id, version) refuses the append if the stream exists;
-- * a single event (the common case) is one INSERT ... RETURNING.
-- @schema@ is replaced with the service's quoted schema name by the migrator.
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
    v_tx      xid8 := pg_current_xact_id();
BEGIN
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

-- Keep each stream's events in version order in the commit-safe (tx_id, position)
-- order as well. A transaction gets its id at its first write; if it appends to a
-- stream whose latest event was written by a *newer* transaction (one that began
-- writing later but committed first), its event would sort before that one.
-- Refuse that append as a concurrency conflict (SQLSTATE OW002): the caller
-- retries in a new transaction, whose id is newer.
CREATE OR REPLACE FUNCTION append_events(
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
    v_last_tx xid8;
    v_tx      xid8 := pg_current_xact_id();
BEGIN
    SELECT e.version, e.hash, e.tx_id INTO v_version, v_prev, v_last_tx
      FROM events e
     WHERE e.stream_id = p_stream_id
     ORDER BY e.version DESC
     LIMIT 1;
    IF NOT FOUND THEN
        v_version := 0;
        v_prev := decode(repeat('00', 32), 'hex');
    ELSIF v_last_tx > v_tx THEN
        RAISE EXCEPTION 'stream % was last written by a newer transaction', p_stream_id
            USING ERRCODE = 'OW002', DETAIL = v_version::text;
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
        out_tx_id := v_tx::text::bigint;
        out_prev_hash := v_prev;
        out_hash := v_hash;
        RETURN NEXT;
        v_prev := v_hash;
    END LOOP;
END;
$$;

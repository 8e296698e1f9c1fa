-- The subjects' keys are read through this function, never from the table.
-- A consumer opens the personal fields of the events it takes from another
-- service with that service's keys (shared/runtime/messaging/delivery.py), so
-- it must be able to read them; but each service runs as a role of its own
-- (docs/DATABASE.md), and no role but the store's own may list, add or delete
-- keys in it. This function answers only the keys asked for, by subject, as
-- the table's owner: the migrate Job grants EXECUTE on it to the store's own
-- role and to the roles of the services that subscribe to it, and nothing on
-- privacy_keys to the latter. It reads the live table, so an erasure at the
-- source still takes effect at the very next read everywhere.
-- @schema@ is replaced with the service's quoted schema name by the migrator.
CREATE FUNCTION @schema@.privacy_keys_of(p_subjects text[])
RETURNS TABLE (subject text, key bytea)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT k.subject, k.key FROM @schema@.privacy_keys k WHERE k.subject = ANY (p_subjects)
$$;

-- A function is executable by PUBLIC when made; this one opens personal data.
REVOKE ALL ON FUNCTION @schema@.privacy_keys_of(text[]) FROM PUBLIC;

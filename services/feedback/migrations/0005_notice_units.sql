-- The unit a notice is about, as the publishing service's event names it, so that the
-- public board shows it and the archive of closed notices is searched by it. Notices
-- heard before keep NULL: feedback never stored the unit, and does not guess it.
ALTER TABLE known_notices ADD COLUMN IF NOT EXISTS unit text;
CREATE INDEX IF NOT EXISTS known_notices_closes_at ON known_notices (closes_at);

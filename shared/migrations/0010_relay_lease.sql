-- The relay's leader holds a lease, renewed every few seconds, instead of a
-- session advisory lock: a lock lives as long as its connection, and the
-- server keeps the connection of a vanished host (or of a frozen process,
-- whose kernel still answers) for as long as TCP lets it, up to hours. A lease
-- lapses on its own. epoch grows with each new leader and fences the
-- checkpoint: a former leader that wakes up cannot move it.
ALTER TABLE relay_checkpoint ADD COLUMN leader text;
ALTER TABLE relay_checkpoint ADD COLUMN lease_until timestamptz NOT NULL DEFAULT '-infinity';
ALTER TABLE relay_checkpoint ADD COLUMN epoch bigint NOT NULL DEFAULT 0;

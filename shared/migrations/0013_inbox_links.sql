-- Each handled event's place in its source's hash chain, so that a consumer
-- can tell an event that does not continue the chain it has seen (a fork, or
-- history rewritten at the source) from one that does. Rows from before this
-- migration have no hashes and are not compared.
ALTER TABLE inbox ADD COLUMN hash bytea, ADD COLUMN prev_hash bytea;
CREATE INDEX inbox_stream_links ON inbox (source, stream_id, version);

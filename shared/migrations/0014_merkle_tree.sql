-- The store's Merkle tree (shared/audit/tree.py), in the style of RFC 9162.
-- Leaves are the events in commit-safe order; audit_leaves maps each leaf to
-- its event and keeps its hash; audit_nodes keeps every perfect subtree above
-- the leaves, so any proof reads O(log^2 n) rows. audit_tree_heads is the
-- book of signed tree heads; each head is also published outside the database
-- (AUDIT_HEAD_SINK). All three are append-only, like the events.
-- They replace the running-digest checkpoints of 0005, which covered less
-- (not tx_id) and could not prove anything to someone outside.

DROP TABLE audit_checkpoints;

CREATE TABLE audit_leaves (
    leaf_index  bigint  PRIMARY KEY CHECK (leaf_index >= 0),
    position    bigint  NOT NULL UNIQUE,
    tx_id       bigint  NOT NULL,
    leaf_hash   bytea   NOT NULL CHECK (length(leaf_hash) = 32)
);

CREATE TABLE audit_nodes (
    level       smallint NOT NULL CHECK (level BETWEEN 1 AND 62),
    node_index  bigint   NOT NULL CHECK (node_index >= 0),
    hash        bytea    NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, node_index)
);

CREATE TABLE audit_tree_heads (
    tree_size     bigint      PRIMARY KEY CHECK (tree_size > 0),
    root_hash     bytea       NOT NULL CHECK (length(root_hash) = 32),
    timestamp_ms  bigint      NOT NULL,
    key_id        text        NOT NULL,
    signature     bytea       NOT NULL,
    stored_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER audit_leaves_append_only BEFORE UPDATE OR DELETE ON audit_leaves
    FOR EACH ROW EXECUTE FUNCTION refuse_event_change();
CREATE TRIGGER audit_leaves_no_truncate BEFORE TRUNCATE ON audit_leaves
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_event_change();
CREATE TRIGGER audit_nodes_append_only BEFORE UPDATE OR DELETE ON audit_nodes
    FOR EACH ROW EXECUTE FUNCTION refuse_event_change();
CREATE TRIGGER audit_nodes_no_truncate BEFORE TRUNCATE ON audit_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_event_change();
CREATE TRIGGER audit_tree_heads_append_only BEFORE UPDATE OR DELETE ON audit_tree_heads
    FOR EACH ROW EXECUTE FUNCTION refuse_event_change();
CREATE TRIGGER audit_tree_heads_no_truncate BEFORE TRUNCATE ON audit_tree_heads
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_event_change();

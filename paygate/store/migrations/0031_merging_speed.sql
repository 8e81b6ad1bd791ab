-- Closing a merge no longer rewrites its items' payment rows (wide rows, eight indexes):
-- the close commits the merge and its links in merge_items; a follow-up step (and, at the
-- latest, the merge's outcome) moves the items to `submitted`. `items_moved` marks the
-- merges whose items have been moved; existing merges were closed the old way.
ALTER TABLE merges ADD COLUMN items_moved boolean NOT NULL DEFAULT true;
CREATE INDEX merges_items_to_move ON merges (closed_at) WHERE NOT items_moved;
-- Nothing looks payments up by merge_id (merge_items does that); the index only cost writes.
DROP INDEX IF EXISTS payments_merge_id;

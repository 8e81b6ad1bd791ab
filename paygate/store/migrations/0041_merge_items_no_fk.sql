-- A close links up to a page of items to its merges in the same transaction that inserts
-- those merges; the foreign key's per-row check (an index probe and a KEY SHARE lock on the
-- merge row, for every item) was ~40% of writing the links. Links are only ever written by
-- that close, next to their merges; the guarantee that matters, no item in two live merges,
-- is the partial unique index `merge_items_one_live`, which stays.
ALTER TABLE merge_items DROP CONSTRAINT IF EXISTS merge_items_merge_id_fkey;

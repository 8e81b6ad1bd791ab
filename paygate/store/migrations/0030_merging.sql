-- Merging small payments to the same payee (并笔): merges, the anti-duplicate item table,
-- and the intake facts the planner needs (rule chosen at intake, time on the gateway clock).

ALTER TABLE payments ADD COLUMN merge_rule text;
ALTER TABLE payments ADD COLUMN merge_since timestamptz;
CREATE INDEX payments_pending_merge ON payments (merge_since) WHERE status = 'pending_merge';
CREATE INDEX payments_merge_id ON payments (merge_id) WHERE merge_id IS NOT NULL;

CREATE TABLE merges (
    id                uuid PRIMARY KEY,
    merge_key         text NOT NULL,
    rule_id           text NOT NULL,
    currency          char(3) NOT NULL,
    creditor_account  text NOT NULL,
    total             numeric(38, 5) NOT NULL CHECK (total > 0),
    item_count        integer NOT NULL CHECK (item_count > 0),
    -- submitted (aggregate created) -> settled | rejected (items re-planned)
    status            text NOT NULL,
    reason            text NOT NULL,
    payment_id        uuid NOT NULL UNIQUE,   -- the aggregate payment
    reference         text NOT NULL UNIQUE,   -- its EndToEndId: what the statement shows
    channel           text,
    fee_charged       numeric(38, 5),
    fee_if_single     numeric(38, 5),
    created_at        timestamptz NOT NULL DEFAULT now(),
    closed_at         timestamptz NOT NULL,   -- on the gateway clock
    settled_at        timestamptz
);
CREATE INDEX merges_rule ON merges (rule_id, closed_at);

-- The anti-duplicate table. A row stays after its merge was rejected (history), marked
-- released; the partial unique index guarantees no item is ever in two live merges.
CREATE TABLE merge_items (
    merge_id    uuid NOT NULL REFERENCES merges (id),
    payment_id  uuid NOT NULL,
    amount      numeric(38, 5) NOT NULL,
    released    boolean NOT NULL DEFAULT false,
    PRIMARY KEY (merge_id, payment_id)
);
CREATE UNIQUE INDEX merge_items_one_live ON merge_items (payment_id) WHERE NOT released;

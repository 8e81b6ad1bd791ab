-- Core gateway schema. Ids are UUIDv7 (time-ordered) so that every table can later be
-- partitioned by payment id (hash) on Citus or a compatible engine.

CREATE TABLE clients (
    id          uuid PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id          uuid PRIMARY KEY,
    client_id   uuid NOT NULL REFERENCES clients (id),
    key_hash    bytea NOT NULL UNIQUE,
    prefix      text NOT NULL,
    scopes      text[] NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE TABLE payments (
    id                 uuid PRIMARY KEY,
    client_id          uuid NOT NULL,
    idempotency_key    text NOT NULL,
    fingerprint        bytea NOT NULL,
    status             text NOT NULL,
    amount             numeric(38, 5) NOT NULL CHECK (amount > 0),
    currency           char(3) NOT NULL,
    end_to_end_id      text NOT NULL,
    instruction_id     text,
    uetr               uuid NOT NULL,
    product            text,
    business_category  text,
    priority           text NOT NULL,
    order_doc          jsonb NOT NULL,
    response_doc       jsonb NOT NULL,
    route_request      jsonb,
    channel            text,
    channel_reference  text,
    fee                numeric(38, 5),
    tried_channels     text[] NOT NULL DEFAULT '{}',
    -- The work queue lives in the row: a worker claims rows whose next_action_at is due
    -- (FOR UPDATE SKIP LOCKED) and pushes next_action_at forward as a lease.
    next_action        text,
    next_action_at     timestamptz,
    action_attempts    integer NOT NULL DEFAULT 0,
    merge_id           uuid,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    CONSTRAINT payments_idempotency UNIQUE (client_id, idempotency_key)
);
CREATE INDEX payments_due ON payments (next_action_at) WHERE next_action_at IS NOT NULL;
CREATE INDEX payments_client_id ON payments (client_id, id);
CREATE INDEX payments_client_status ON payments (client_id, status, id);
CREATE INDEX payments_uetr ON payments (uetr);

CREATE TABLE payment_events (
    id           bigint GENERATED ALWAYS AS IDENTITY,
    payment_id   uuid NOT NULL,
    at           timestamptz NOT NULL DEFAULT clock_timestamp(),
    from_status  text,
    to_status    text NOT NULL,
    reason       text NOT NULL,
    data         jsonb,
    PRIMARY KEY (payment_id, id)
);

-- One row per attempt to give a payment to a channel, committed before the request is sent.
CREATE TABLE submissions (
    id           uuid PRIMARY KEY,
    payment_id   uuid NOT NULL,
    channel      text NOT NULL,
    reference    text NOT NULL UNIQUE,
    attempt      integer NOT NULL,
    state        text NOT NULL,
    reason       text,
    fee          numeric(38, 5),
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz,
    resolved_at  timestamptz
);
CREATE INDEX submissions_payment ON submissions (payment_id);
-- No double payment, enforced by the database: a payment has at most one submission that is
-- live or has succeeded; a second one can only follow a definitive rejection.
CREATE UNIQUE INDEX submissions_one_live ON submissions (payment_id)
    WHERE state IN ('pending', 'sent', 'accepted', 'unknown', 'settled');

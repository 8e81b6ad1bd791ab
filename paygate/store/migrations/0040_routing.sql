-- Routing: versioned configurations (one active), an audit trail, and the live usage and
-- liquidity that routing reads through its snapshot.

CREATE TABLE routing_configs (
    version       text PRIMARY KEY,
    yaml          text NOT NULL,
    author        text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    activated_at  timestamptz,
    active        boolean NOT NULL DEFAULT false
);
-- At most one active version, enforced by the database.
CREATE UNIQUE INDEX routing_configs_one_active ON routing_configs (active) WHERE active;

CREATE TABLE routing_audit (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor    text NOT NULL,
    action   text NOT NULL,
    version  text,
    detail   jsonb
);

-- Reserved when a payment is routed, released on a definitive rejection or when the rail
-- never took it. Business day in UTC.
CREATE TABLE channel_usage (
    channel  text NOT NULL,
    day      date NOT NULL,
    amount   numeric(38, 5) NOT NULL DEFAULT 0,
    count    integer NOT NULL DEFAULT 0,
    PRIMARY KEY (channel, day)
);

-- The settlement account of a rail: position goes down on reserve and back on release.
-- No row: unlimited.
CREATE TABLE channel_positions (
    channel     text NOT NULL,
    currency    char(3) NOT NULL,
    position    numeric(38, 5) NOT NULL,
    protection  numeric(38, 5) NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, currency)
);

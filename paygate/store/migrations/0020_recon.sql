-- Reconciliation: imported statements and their lines, runs, matches, breaks and the
-- operator's resolutions. Idempotency and "matched at most once" are constraints here,
-- not checks in code, so two gateway processes reconciling at once stay correct.

CREATE TABLE recon_statements (
    id               bigserial PRIMARY KEY,
    channel          text NOT NULL,
    statement_id     text NOT NULL,         -- the rail's id (camt Stmt/Id, MT :20:)
    source           text NOT NULL,         -- camt.053.001.08, MT940, MT950, csv
    account          text,
    currency         char(3),
    sequence         integer,               -- electronic sequence / MT :28C: number
    page             integer,
    opening_balance  numeric(38, 5),        -- signed: credit positive
    opening_date     date,
    closing_balance  numeric(38, 5),
    closing_date     date,
    -- Over the statement's content, not its bytes or id: a rail that re-issues the same
    -- statement under a new id or timestamp is still the same statement.
    content_hash     text NOT NULL,
    imported_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT recon_statements_once UNIQUE (channel, content_hash)
);
CREATE INDEX recon_statements_account ON recon_statements (channel, account, currency, closing_date);

CREATE TABLE recon_statement_lines (
    id               bigserial PRIMARY KEY,
    statement        bigint NOT NULL REFERENCES recon_statements (id),
    channel          text NOT NULL,
    line_id          text NOT NULL,         -- statement id + '#' + seq, as first imported
    seq              integer NOT NULL,
    amount           numeric(38, 5) NOT NULL CHECK (amount >= 0),
    credit_debit     char(1) NOT NULL CHECK (credit_debit IN ('C', 'D')),
    currency         char(3) NOT NULL,
    value_date       date NOT NULL,
    booking_date     date,
    tx_id            text,
    end_to_end_id    text,
    uetr             text,
    entry_ref        text,
    acct_svcr_ref    text,
    batch_count      integer,
    is_fee           boolean NOT NULL DEFAULT false,
    stated_charges   numeric(38, 5),        -- a charge the rail declares inside the amount
    content_hash     text NOT NULL,
    CONSTRAINT recon_lines_once UNIQUE (channel, content_hash),
    CONSTRAINT recon_lines_id UNIQUE (channel, line_id)
);

CREATE TABLE recon_runs (
    id               uuid PRIMARY KEY,
    channel          text NOT NULL,
    as_of            date NOT NULL,
    statement        bigint REFERENCES recon_statements (id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    summary          jsonb NOT NULL,
    report_paths     jsonb NOT NULL DEFAULT '{}'
);

-- One row per statement line matched; its gateway records in recon_match_records.
CREATE TABLE recon_matches (
    id               bigserial PRIMARY KEY,
    run_id           uuid NOT NULL REFERENCES recon_runs (id),
    channel          text NOT NULL,
    line_id          text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('1:1', '1:N')),
    stage            smallint NOT NULL,
    score            numeric(12, 3) NOT NULL,
    CONSTRAINT recon_matches_line_once UNIQUE (channel, line_id)
);

CREATE TABLE recon_match_records (
    match_id         bigint NOT NULL REFERENCES recon_matches (id),
    channel          text NOT NULL,
    record_id        text NOT NULL,         -- payment id
    -- A payment is matched at most once per channel, across all runs.
    CONSTRAINT recon_records_once UNIQUE (channel, record_id)
);

CREATE TABLE recon_breaks (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    run_id           uuid NOT NULL REFERENCES recon_runs (id),
    channel          text NOT NULL,
    fingerprint      text NOT NULL,
    kind             text NOT NULL,
    grade            text NOT NULL CHECK (grade IN ('high', 'medium', 'low')),
    proposed_action  text NOT NULL,
    record_ids       text[] NOT NULL DEFAULT '{}',
    line_ids         text[] NOT NULL DEFAULT '{}',
    details          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    resolved_by      text,
    action_taken     text,
    reason           text,
    resolved_at      timestamptz,
    CONSTRAINT recon_breaks_once_per_run UNIQUE (run_id, fingerprint),
    CONSTRAINT recon_breaks_resolution CHECK (
        (status = 'open' AND resolved_at IS NULL)
        OR (status = 'resolved' AND resolved_at IS NOT NULL AND resolved_by IS NOT NULL
            AND action_taken IS NOT NULL)
    )
);
CREATE INDEX recon_breaks_fingerprint ON recon_breaks (channel, fingerprint, status);

-- What the operator settled stays settled: a later run may not raise it again (the service
-- filters with match(already_resolved=...); this is the backstop).
CREATE FUNCTION recon_breaks_not_resolved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM recon_breaks
               WHERE channel = NEW.channel AND fingerprint = NEW.fingerprint
                 AND status = 'resolved') THEN
        RAISE EXCEPTION 'break % on % was already resolved', NEW.fingerprint, NEW.channel
            USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER recon_breaks_not_resolved BEFORE INSERT ON recon_breaks
    FOR EACH ROW EXECUTE FUNCTION recon_breaks_not_resolved();

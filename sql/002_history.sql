-- What loanwatch decided, keyed by natural ids so that reprocessing after a crash writes
-- nothing twice: a tier change by the event that caused it, an alert by its alert_id.

create table tier_history (
    cause_event_id text primary key,
    borrower_id    text             not null,
    previous_tier  char(1),
    tier           char(1)          not null check (tier in ('A', 'B', 'C', 'D')),
    reasons        text[]           not null,
    score          double precision not null,
    model_version  text             not null,
    policy_version text             not null,
    occurred_at    timestamptz      not null,
    recorded_at    timestamptz      not null default now()
);
create index tier_history_borrower on tier_history (borrower_id, occurred_at);

create table alerts (
    alert_id       text primary key,
    borrower_id    text        not null,
    queue          text        not null,
    severity       text        not null,
    tier           char(1)     not null,
    treatment      text        not null,
    reasons        text[]      not null,
    cause_event_id text        not null,
    occurred_at    timestamptz not null,
    recorded_at    timestamptz not null default now()
);
create index alerts_borrower on alerts (borrower_id, occurred_at);
create index alerts_queue on alerts (queue, occurred_at);

-- The current tier of every borrower; a row only moves forward in event time.
create table borrower_tiers (
    borrower_id    text primary key,
    tier           char(1)          not null,
    previous_tier  char(1),
    reasons        text[]           not null,
    score          double precision not null,
    model_version  text             not null,
    policy_version text             not null,
    cause_event_id text             not null,
    occurred_at    timestamptz      not null,
    updated_at     timestamptz      not null default now()
);
create index borrower_tiers_tier on borrower_tiers (tier);

-- Every model checkpoint the trainer published, with its readable header.
create table model_snapshots (
    version          text primary key,
    champion         text        not null,
    matured_outcomes bigint      not null,
    header           jsonb       not null,
    checkpoint       bytea       not null,
    created_at       timestamptz not null default now()
);

-- Every policy a worker ran with: decisions name their policy version, this says what it was.
create table policy_versions (
    version       text primary key,
    sha256        text        not null,
    document      jsonb       not null,
    first_seen_at timestamptz not null default now()
);

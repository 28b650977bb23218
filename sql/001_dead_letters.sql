-- Messages that could not be processed, with their original bytes and where they came from.
-- (topic, partition, offset) is the natural key: reprocessing after a crash writes nothing twice.
create table dead_letters (
    source_topic     text        not null,
    source_partition integer     not null,
    source_offset    bigint      not null,
    reason           text        not null,
    payload          bytea       not null,
    message_key      bytea,
    received_at      timestamptz not null default now(),
    primary key (source_topic, source_partition, source_offset)
);

create index dead_letters_received_at on dead_letters (received_at);

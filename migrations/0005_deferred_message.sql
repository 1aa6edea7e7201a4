-- Messages that could not be judged yet because DNS did not answer while
-- their DKIM signature was checked. They wait here, whole, and are judged
-- again with backoff; a message leaves this table in the same transaction
-- that stores it in `messages`, so nothing is dropped and nothing is
-- accepted unverified.
create table deferred_message (
    id              integer primary key,
    sha256          text not null unique,   -- as messages.sha256
    source          text not null check (source in ('imap', 'file', 'stdin')),
    source_ref      text,                   -- file path, for source = 'file'
    mailbox         text,                   -- for source = 'imap'
    uidvalidity     integer,
    uid             integer,
    raw             blob not null,
    received_at     text not null,          -- when it reached the mailbox (IMAP INTERNALDATE) or collabd
    attempts        integer not null default 1,
    next_attempt_at text not null,
    last_error      text not null           -- what DNS said last time
);
create index deferred_message_due on deferred_message (next_attempt_at);

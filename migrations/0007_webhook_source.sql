-- A second way in: Leadsie's webhook. Its deliveries are stored like
-- messages, for audit and idempotence, with source = 'webhook' (and in
-- deferred_message's list too, so both tables name the same sources).
-- SQLite cannot change a CHECK constraint in place, so both tables are
-- rebuilt as https://www.sqlite.org/lang_altertable.html#otheralter
-- describes, ids and all.
--
-- sqlx runs each migration in a transaction, where foreign keys cannot be
-- turned off; the two tables that reference messages (access_requests, and
-- request_events, which also references access_requests) are set aside
-- while the old messages table is dropped, and put back once the new one
-- carries its name. Rows, ids and references end as they were.

create table messages_new (
    id            integer primary key,
    sha256        text not null unique,      -- hex digest of the raw bytes: ingest is idempotent on it
    message_id    text,                      -- the Message-ID header
    source        text not null check (source in ('imap', 'file', 'stdin', 'webhook')),
    source_ref    text,                      -- file path (source = 'file'), peer address or file (source = 'webhook')
    mailbox       text,                      -- for source = 'imap'
    uidvalidity   integer,
    uid           integer,
    from_addr     text,                      -- the outer From: who delivered it to us
    original_from text,                      -- the original sender, when it was forwarded
    subject       text,
    date          text,                      -- the Date header, in UTC
    kind          text not null check (kind in ('leadsie_grant', 'shopify_granted', 'shopify_declined',
                      'shopify_revoked', 'shopify_other', 'ignored', 'rejected', 'unparseable')),
    reason        text,                      -- why it got its kind, when that is not obvious
    raw           blob,                      -- the bytes, for audit; null when over the size cap or past retention
    raw_size      integer not null,
    received_at   text not null
);
insert into messages_new
    (id, sha256, message_id, source, source_ref, mailbox, uidvalidity, uid, from_addr,
     original_from, subject, date, kind, reason, raw, raw_size, received_at)
select id, sha256, message_id, source, source_ref, mailbox, uidvalidity, uid, from_addr,
       original_from, subject, date, kind, reason, raw, raw_size, received_at
from messages;

create temp table request_events_aside as select * from request_events;
create temp table access_requests_aside as select * from access_requests;
delete from request_events;
delete from access_requests;
drop table messages;
alter table messages_new rename to messages;
insert into access_requests select * from access_requests_aside;
insert into request_events select * from request_events_aside;
drop table access_requests_aside;
drop table request_events_aside;
create index messages_kind on messages (kind);
create index messages_mailbox_uid on messages (mailbox, uidvalidity, uid);

create table deferred_message_new (
    id              integer primary key,
    sha256          text not null unique,   -- as messages.sha256
    source          text not null check (source in ('imap', 'file', 'stdin', 'webhook')),
    source_ref      text,                   -- as messages.source_ref
    mailbox         text,                   -- for source = 'imap'
    uidvalidity     integer,
    uid             integer,
    raw             blob not null,
    received_at     text not null,          -- when it reached the mailbox (IMAP INTERNALDATE) or collabd
    attempts        integer not null default 1,
    next_attempt_at text not null,
    last_error      text not null           -- what DNS said last time
);
insert into deferred_message_new select * from deferred_message;
drop table deferred_message;
alter table deferred_message_new rename to deferred_message;
create index deferred_message_due on deferred_message (next_attempt_at);

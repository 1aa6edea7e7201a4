-- collabd's schema. The database is a public interface: operators query it
-- with sqlite3, so names are plain and stable.

-- Every message collabd has seen, once (by the SHA-256 of its bytes).
create table messages (
    id            integer primary key,
    sha256        text not null unique,      -- hex digest of the raw bytes: ingest is idempotent on it
    message_id    text,                      -- the Message-ID header
    source        text not null check (source in ('imap', 'file', 'stdin')),
    source_ref    text,                      -- file path, for source = 'file'
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
create index messages_kind on messages (kind);
create index messages_mailbox_uid on messages (mailbox, uidvalidity, uid);

-- One row per (store, code): a collaborator request to file.
create table access_requests (
    id                   integer primary key,
    store_domain         text not null,      -- <handle>.myshopify.com
    collaborator_code    text not null
        check (length(collaborator_code) = 4 and collaborator_code not glob '*[^0-9]*'),
    client_name          text,
    client_email         text,
    leadsie_request_name text,
    leadsie_request_url  text,
    state                text not null default 'queued' check (state in ('queued', 'filing', 'requested',
                             'notified', 'granted', 'declined', 'expired', 'revoked', 'failed',
                             'cancelled', 'superseded')),
    attempts             integer not null default 0,  -- filing attempts so far
    next_attempt_at      text,               -- when the worker may try (again)
    lease_until          text,               -- a worker holds it until then (state = 'filing')
    last_error           text,
    source_message_id    integer references messages (id),
    received_at          text not null,      -- when the grant reached us
    filed_at             text,
    resolved_at          text,               -- when it reached a final state
    created_at           text not null,
    updated_at           text not null,
    -- A re-sent or re-forwarded grant names the same (store, code): one request.
    unique (store_domain, collaborator_code)
);
create index access_requests_state on access_requests (state, next_attempt_at);
create index access_requests_store on access_requests (store_domain);

-- Append-only timeline: every change to a request, and Shopify replies that
-- matched no request (request_id null).
create table request_events (
    id          integer primary key,
    request_id  integer references access_requests (id),
    message_id  integer references messages (id),
    at          text not null,
    actor       text not null,               -- leadsie, shopify, worker, operator:<name>
    event       text not null,               -- created, seen_again, superseded, outcome, unmatched_outcome, ...
    from_state  text,
    to_state    text,
    detail      text
);
create index request_events_request on request_events (request_id, id);

-- Per watched mailbox: the IMAP checkpoint and the watcher's health.
create table mailbox_state (
    mailbox         text primary key,        -- account and folder, e.g. ops@agency.com/INBOX
    uidvalidity     integer,
    last_uid        integer not null default 0,
    connected       integer not null default 0,
    last_contact_at text,
    last_error      text,
    last_error_at   text,
    updated_at      text not null
);

-- "Where is each store?" in one query. The code is shown masked.
create view request_status as
select
    r.id,
    r.store_domain,
    r.client_name,
    r.state,
    '**' || substr(r.collaborator_code, 3) as code_hint,
    r.attempts,
    r.last_error,
    r.received_at,
    r.filed_at,
    r.resolved_at,
    r.updated_at,
    cast(julianday('now') - julianday(r.received_at) as integer) as age_days,
    (select e.event || coalesce(': ' || e.detail, '')
       from request_events e where e.request_id = r.id order by e.id desc limit 1) as last_event
from access_requests r;

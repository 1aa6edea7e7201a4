-- A new request state, `awaiting_review`: with `[worker] review` set, a
-- request waits here until an operator approves it (it becomes `queued`)
-- or cancels it, so that nothing is filed for a store nobody looked at.
-- SQLite cannot change a CHECK constraint in place, so access_requests is
-- rebuilt as https://www.sqlite.org/lang_altertable.html#otheralter
-- describes and as 0006 did: a new table, the rows copied with their ids,
-- the old one dropped, the new one renamed, its indexes (0001's and 0008's)
-- and the view that reads it made again.
--
-- sqlx runs each migration in a transaction, where foreign keys cannot be
-- turned off; so the one table that references access_requests,
-- request_events, is set aside (ids and all) while the old table is dropped
-- and put back once the new one carries its name. Rows, ids and references
-- end as they were. (browser_submission names requests without a foreign
-- key, for this reason, and is left alone.)

create table access_requests_new (
    id                   integer primary key,
    store_domain         text not null,      -- <handle>.myshopify.com
    collaborator_code    text not null
        check (length(collaborator_code) = 4 and collaborator_code not glob '*[^0-9]*'),
    client_name          text,
    client_email         text,
    leadsie_request_name text,
    leadsie_request_url  text,
    state                text not null default 'queued' check (state in ('awaiting_review', 'queued', 'filing',
                             'requested', 'notified', 'logged', 'granted', 'declined', 'expired', 'revoked',
                             'failed', 'cancelled', 'superseded')),
    attempts             integer not null default 0,  -- filing attempts so far
    next_attempt_at      text,               -- when the worker may try (again)
    lease_until          text,               -- a worker holds it until then (state = 'filing')
    last_error           text,
    source_message_id    integer references messages (id),
    received_at          text not null,      -- when the grant reached us
    filed_at             text,               -- when it reached Shopify or a person (not set for `logged`)
    resolved_at          text,               -- when it reached a final state
    created_at           text not null,
    updated_at           text not null,
    -- A re-sent or re-forwarded grant names the same (store, code): one request.
    unique (store_domain, collaborator_code)
);
insert into access_requests_new
    (id, store_domain, collaborator_code, client_name, client_email, leadsie_request_name,
     leadsie_request_url, state, attempts, next_attempt_at, lease_until, last_error,
     source_message_id, received_at, filed_at, resolved_at, created_at, updated_at)
select id, store_domain, collaborator_code, client_name, client_email, leadsie_request_name,
       leadsie_request_url, state, attempts, next_attempt_at, lease_until, last_error,
       source_message_id, received_at, filed_at, resolved_at, created_at, updated_at
from access_requests;

create temp table request_events_aside as select * from request_events;
delete from request_events;
drop view request_status;
drop table access_requests;
alter table access_requests_new rename to access_requests;
insert into request_events select * from request_events_aside;
drop table request_events_aside;
create index access_requests_state on access_requests (state, next_attempt_at);
create index access_requests_store on access_requests (store_domain);
-- As in 0008: the status page's sorting.
create index access_requests_received on access_requests (received_at);
create index access_requests_client on access_requests (lower(coalesce(client_name, '')));
create index access_requests_attempts on access_requests (attempts);

-- As in 0001: "where is each store?" in one query. The code is shown masked.
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

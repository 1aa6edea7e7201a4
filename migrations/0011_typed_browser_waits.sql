-- What a queued request waits for, as a value rather than the start of its
-- last_error: `browser_login` (the browser filer's dashboard session lapsed;
-- a new login makes the request due at once), `hourly_limit`
-- (worker.browser.per_hour) or `browser_busy` (another collabd process held
-- the browser profile). Null for every other request. Set by the worker when
-- it puts a request back to wait, cleared when a worker claims it.
-- (An added column may carry a CHECK; it needs no rebuild of the table.)
alter table access_requests add column waiting_for text
    check (waiting_for in ('browser_login', 'hourly_limit', 'browser_busy'));

-- Requests queued behind a wait, told apart until now by their error's
-- first words.
update access_requests set waiting_for = 'browser_login'
where state = 'queued' and substr(last_error, 1, length('browser login needed')) = 'browser login needed';
update access_requests set waiting_for = 'hourly_limit'
where state = 'queued' and last_error glob 'browser filer: * requests sent in the last hour (worker.browser.per_hour = *';
update access_requests set waiting_for = 'browser_busy'
where state = 'queued' and last_error glob 'browser filer: the browser profile * is in use by another collabd process*';

-- The dashboard session's state says what it is: `signed_in` rather than
-- `ok`. SQLite cannot change a CHECK constraint in place, so the one-row
-- table is made again with its row.
create table browser_session_new (
    id         integer primary key check (id = 1),
    state      text not null check (state in ('unknown', 'signed_in', 'login_needed')),
    detail     text,               -- what the last check saw (a URL, no secrets)
    since      text not null,      -- when it entered this state
    told_at    text,               -- when operators were told it lapsed (once per lapse)
    updated_at text not null
);
insert into browser_session_new (id, state, detail, since, told_at, updated_at)
select id, case state when 'ok' then 'signed_in' else state end, detail, since, told_at, updated_at
from browser_session;
drop table browser_session;
alter table browser_session_new rename to browser_session;

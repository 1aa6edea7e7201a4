-- The browser filer's own records (see README, "The browser filer").

-- Whether the dashboard session in the browser profile still works. One row.
create table browser_session (
    id         integer primary key check (id = 1),
    state      text not null check (state in ('unknown', 'ok', 'login_needed')),
    detail     text,               -- what the last check saw (a URL, no secrets)
    since      text not null,      -- when it entered this state
    told_at    text,               -- when operators were told it lapsed (once per lapse)
    updated_at text not null
);
insert into browser_session (id, state, since, updated_at)
values (1, 'unknown', '1970-01-01T00:00:00Z', '1970-01-01T00:00:00Z');

-- Every time the filer pressed "Send request", written before the press:
-- a row without finished_at is a submission whose answer nobody read (a
-- crash or a hang mid-submit). The next attempt checks the dashboard
-- instead of pressing again. Also what the hourly rate limit counts.
-- (No foreign key: access_requests is rebuilt by some migrations.)
create table browser_submission (
    id          integer primary key,
    request_id  integer not null,
    attempt     integer not null,
    started_at  text not null,
    finished_at text,
    result      text               -- the outcome read from the page, or how it was checked
);
create index browser_submission_request on browser_submission (request_id);
create index browser_submission_started on browser_submission (started_at);

-- The last read of the dashboard's Collaborations list. One row.
create table browser_sync (
    id         integer primary key check (id = 1),
    last_at    text,
    last_error text,
    rows_seen  integer
);
insert into browser_sync (id) values (1);

-- Operators are told when a request reaches an outcome (granted, declined,
-- revoked, failed, expired) or needs a reminder. Events are announced in
-- order; this cursor is the last one announced, and moves only after a
-- notification channel took the message, so none is lost across restarts.
create table announcement_cursor (
    id             integer primary key check (id = 1),
    last_event_id  integer not null,
    updated_at     text not null
);

-- Start after what already happened: an upgrade does not replay history.
insert into announcement_cursor (id, last_event_id, updated_at)
values (1, coalesce((select max(id) from request_events), 0), strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));

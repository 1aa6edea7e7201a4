-- The IMAP watcher's health, per watched mailbox, beside its checkpoint:
-- what it is doing now, how often it had to reconnect, and when it will try
-- again after an error. `collabd status` shows these; nothing fails silently.
alter table mailbox_state add column state text not null default 'starting';
alter table mailbox_state add column reconnects integer not null default 0;
alter table mailbox_state add column next_retry_at text;

-- /metrics counts filing attempts and failures by event name.
create index request_events_event on request_events (event);

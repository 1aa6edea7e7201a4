-- A message's after-processing action (mark \Seen, or move), recorded in the
-- transaction that stored the message and deleted once the server has done
-- it. A crash between the commit and the action, or a failed MOVE, leaves the
-- row; the next sync of the folder retries it. `attempts` and `last_error`
-- tell the operator why a message is still in the watched folder.
create table after_processing_pending (
    mailbox     text    not null,
    uidvalidity integer not null,
    uid         integer not null,
    attempts    integer not null default 0,
    last_error  text,
    created_at  text    not null,
    updated_at  text    not null,
    primary key (mailbox, uidvalidity, uid)
) without rowid;

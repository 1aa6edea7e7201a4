-- Several IMAP accounts in one daemon (`[[imap]]`): each watched folder's
-- row names the account it belongs to, as configured (`[[imap]] name`;
-- `default` for a single `[imap]` table). The key stays `login/folder`, so
-- existing checkpoints carry over unchanged; rows written before this
-- migration (all from a single `[imap]`) are that account's.
alter table mailbox_state add column account text not null default 'default';
-- Which collabd process watches (or last watched) the folder: its host's
-- name and process id, `backup-host (pid 4121)`.
alter table mailbox_state add column node text;

-- A message read from IMAP names its account in source_ref (a file's path
-- or a webhook's peer otherwise); those stored before were the single
-- account's.
update messages set source_ref = 'default' where source = 'imap' and source_ref is null;
update deferred_message set source_ref = 'default' where source = 'imap' and source_ref is null;

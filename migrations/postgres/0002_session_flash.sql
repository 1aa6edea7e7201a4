-- As migrations/0014_session_flash.sql: an action's result, shown once on
-- the session's next page, whichever node serves it.
alter table web_sessions add column flash_ok boolean, add column flash_text text;

-- What a status-page action did, shown once on the session's next page:
-- kept with the session, so a load balancer may send that page to any node.
alter table web_sessions add column flash_ok integer;
alter table web_sessions add column flash_text text;

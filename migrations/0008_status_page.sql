-- The status page sorts the requests table by any column and pages
-- through tens of thousands of rows. These indexes let SQLite walk the
-- requests in the order asked for and stop after one page, instead of
-- sorting every row on each view. Read-only for the page; the watcher and
-- the worker pay one index entry per row they write.
create index access_requests_received on access_requests (received_at);
create index access_requests_client on access_requests (lower(coalesce(client_name, '')));
create index access_requests_attempts on access_requests (attempts);

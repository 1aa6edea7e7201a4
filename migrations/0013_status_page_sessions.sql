-- The status page's sign-ins and failed sign-ins live in the database, so
-- a restart no longer signs everyone out and every node behind a load
-- balancer sees the same sessions and the same sign-in limits.

-- One row per signed-in browser. The cookie's session id is never stored:
-- only its SHA-256, so whoever reads the database cannot sign in with it.
create table web_sessions (
    id_sha256     text primary key,
    name          text not null,          -- the user, as in the users file
    csrf          text not null,          -- sent with every form of this session
    -- SHA-256 of the user's password hash when they signed in: a removed
    -- user, or a changed password, ends the session at its next use.
    password_tag  text not null,
    expires_at    text not null,
    created_at    text not null
);
create index web_sessions_expiry on web_sessions (expires_at);

-- Failed sign-ins within the limit's window (older rows are deleted at the
-- next sign-in attempt): by source (an IPv4 address, an IPv6 /64) and the
-- name tried, kept only as its SHA-256 (a name field sometimes receives a
-- password).
create table sign_in_failures (
    id      integer primary key,
    source  text not null,
    name    text not null,                -- SHA-256 of the name tried, lower-cased
    at      text not null
);
create index sign_in_failures_source on sign_in_failures (source, name, at);
create index sign_in_failures_at on sign_in_failures (at);

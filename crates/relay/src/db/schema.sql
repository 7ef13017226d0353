-- Pushmail relay schema (docs/relay.md). Applied at every start inside one transaction under
-- an advisory lock, so N processes starting together apply it once. Additive only.

-- A user of the relay: whoever holds one of its API tokens (only the SHA-256 is kept).
CREATE TABLE IF NOT EXISTS relay_user (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS api_token (
    token_hash  bytea PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES relay_user ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Accounts are grouped in buckets; a process watches the accounts of the buckets it leases.
-- `epoch` goes up at every change of owner: it is the fencing token every write checks.
CREATE TABLE IF NOT EXISTS bucket (
    bucket      integer PRIMARY KEY,
    owner       text,
    epoch       bigint NOT NULL DEFAULT 0,
    lease_until timestamptz NOT NULL DEFAULT '-infinity'
);

-- A watched mailbox. The secret (password or refresh token) is sealed with the account's own
-- key (AES-256-GCM), and that key is sealed with the master key, which is not in the database.
CREATE TABLE IF NOT EXISTS account (
    id          text PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES relay_user ON DELETE CASCADE,
    bucket      integer NOT NULL,
    name        text NOT NULL,
    email       text NOT NULL DEFAULT '',
    host        text NOT NULL,
    port        integer NOT NULL,
    security    text NOT NULL,
    username    text NOT NULL,
    folders     text[] NOT NULL DEFAULT '{}',
    sealed_key  bytea NOT NULL,
    sealed_secret bytea NOT NULL,
    -- The watcher's last state (connecting, watching, auth_failed…) and its error, for the app.
    state       text NOT NULL DEFAULT 'starting',
    state_detail text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS account_bucket ON account (bucket);
CREATE INDEX IF NOT EXISTS account_user ON account (user_id);

-- The sync store (pushmail-core's SyncBackend), as the desktop's SQLite file has it.
CREATE TABLE IF NOT EXISTS folder_mark (
    account     text NOT NULL REFERENCES account ON DELETE CASCADE,
    folder      text NOT NULL,
    uidvalidity bigint NOT NULL,
    watermark   bigint NOT NULL,
    highestmodseq bigint,
    PRIMARY KEY (account, folder)
);
-- One row per announcement: the unique key is what makes "recorded exactly once".
CREATE TABLE IF NOT EXISTS announced (
    account     text NOT NULL REFERENCES account ON DELETE CASCADE,
    folder      text NOT NULL,
    uidvalidity bigint NOT NULL,
    uid         bigint NOT NULL,
    -- Who recorded it (process, epoch): for the tests and an operator's questions.
    recorded_by text NOT NULL,
    epoch       bigint NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account, folder, uidvalidity, uid)
);

-- Where notices go: a browser's Web Push subscription, and what it wants to see.
CREATE TABLE IF NOT EXISTS device (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES relay_user ON DELETE CASCADE,
    name        text NOT NULL DEFAULT '',
    endpoint    text NOT NULL,
    p256dh      bytea NOT NULL,
    auth        bytea NOT NULL,
    -- 'none' (just "new mail in Work"), 'sender', 'subject' (sender and subject).
    detail      text NOT NULL DEFAULT 'sender',
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, endpoint)
);
-- Signed webhooks (Standard Webhooks); the signing secret is sealed with the master key.
CREATE TABLE IF NOT EXISTS webhook (
    id          bigserial PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES relay_user ON DELETE CASCADE,
    url         text NOT NULL,
    sealed_secret bytea NOT NULL,
    detail      text NOT NULL DEFAULT 'subject',
    disabled_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The outbox: one row per delivery, written in the announcement's transaction, taken by the
-- senders with FOR UPDATE SKIP LOCKED (woken by NOTIFY outbox). `body` is already encrypted
-- to the device (Web Push) or sealed with the master key (webhooks): no mail header in clear.
CREATE TABLE IF NOT EXISTS outbox (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL,            -- 'webpush' | 'webhook'
    target      bigint NOT NULL,          -- device.id or webhook.id
    account     text,
    tag         text NOT NULL,            -- account/folder/uidvalidity/uid: the device collapses by it
    body        bytea NOT NULL,
    urgency     text NOT NULL DEFAULT 'high',
    attempts    integer NOT NULL DEFAULT 0,
    next_at     timestamptz NOT NULL DEFAULT now(),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_at);

-- Relay-wide values shared by every process: the VAPID key pair (sealed), the schema version.
CREATE TABLE IF NOT EXISTS relay_meta (
    key         text PRIMARY KEY,
    value       bytea NOT NULL
);

-- Live relay processes (heartbeat): each process takes about buckets / live processes.
CREATE TABLE IF NOT EXISTS relay_process (
    owner       text PRIMARY KEY,
    seen_until  timestamptz NOT NULL
);

-- Every claim of a bucket (who, at which epoch, when): the history behind the fence, for an
-- operator's "who watched this account at 10:02" and for the tests' exactly-once proof.
CREATE TABLE IF NOT EXISTS bucket_claim (
    bucket      integer NOT NULL,
    epoch       bigint NOT NULL,
    owner       text NOT NULL,
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bucket, epoch)
);

-- Sign-in (OAuth2) mailboxes: `auth` says what `sealed_secret` holds ('password' or 'oauth2',
-- the refresh token), `signin_provider` which `[signin.<id>]` of the config it came from, and
-- `secret_version` goes up at every new sign-in, so the watcher of a mailbox waiting for one
-- starts again.
-- Looked up first: ALTER TABLE takes its ACCESS EXCLUSIVE lock before it checks IF NOT EXISTS,
-- and this file runs at every start.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_schema = current_schema() AND table_name = 'account'
                     AND column_name = 'secret_version') THEN
        ALTER TABLE account ADD COLUMN IF NOT EXISTS auth text NOT NULL DEFAULT 'password';
        ALTER TABLE account ADD COLUMN IF NOT EXISTS signin_provider text NOT NULL DEFAULT '';
        ALTER TABLE account ADD COLUMN IF NOT EXISTS secret_version integer NOT NULL DEFAULT 0;
    END IF;
END
$$;

-- A sign-in between "Sign in with …" and the browser's return, which may reach any process:
-- looked up by the SHA-256 of its `state`, bound to the browser that started it (the SHA-256
-- of a random cookie), used once (deleted when read). `sealed` holds the state and the PKCE
-- verifier, sealed with the master key; `fields` a new mailbox's fields (no secret).
CREATE TABLE IF NOT EXISTS signin_pending (
    state_hash   bytea PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES relay_user ON DELETE CASCADE,
    browser_hash bytea NOT NULL,
    provider     text NOT NULL,
    account      text REFERENCES account ON DELETE CASCADE,
    fields       text NOT NULL,
    sealed       bytea NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS signin_pending_expiry ON signin_pending (expires_at);

-- A device's renewal secret (its SHA-256): issued by the relay when the browser registers and
-- at every renewal, kept by the browser's service worker, required by POST /api/devices/renew.
-- The subscription's own endpoint and auth secret are not enough: the relay stores them in
-- clear (it must, to encrypt), and they do not change when someone copies them.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                   WHERE table_schema = current_schema() AND table_name = 'device'
                     AND column_name = 'renew_hash') THEN
        ALTER TABLE device ADD COLUMN IF NOT EXISTS renew_hash bytea;
        CREATE UNIQUE INDEX IF NOT EXISTS device_renew ON device (renew_hash);
    END IF;
END
$$;

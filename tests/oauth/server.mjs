// The authorization server of Pushmail's sign-in tests: panva's oidc-provider (OpenID-certified)
// on https://127.0.0.1:PORT, started by pushmail-tests (tests/src/oidc.rs), one per test.
//
// Everything is in memory and dies with the process. What it offers:
//
// - client `pushmail`: a public native client as RFC 8252 describes it (no secret, PKCE S256
//   required, loopback redirects `http://127.0.0.1/callback` and `http://[::1]/callback` matched
//   on any port), authorization_code + refresh_token, scopes `openid offline_access email imap`.
// - client `dovecot`: a confidential client (client_secret_basic) that may only introspect, for
//   Dovecot's `passdb { driver = oauth2 }`.
// - the development login and consent pages (devInteractions): a real HTML form; any password is
//   accepted and the login name typed becomes the account's `sub`, so it is the IMAP user name.
// - refresh tokens rotated on every use (unless --rotate-refresh-tokens=false); presenting an
//   already used one revokes the whole grant (oidc-provider's reuse detection).
// - test hooks: `POST /test/revoke?sub=NAME` revokes every grant of NAME (as "remove access" in
//   a provider's account page would), `GET /test/grants?sub=NAME` counts the live ones.
//
// Settings, from arguments or the environment (arguments win):
//   --cert FILE / OIDC_CERT, --key FILE / OIDC_KEY        TLS certificate chain and key (PEM)
//   --port N / OIDC_PORT                                  0 (default): a free port
//   --access-token-ttl SECS / OIDC_ACCESS_TOKEN_TTL        default 3600
//   --rotate-refresh-tokens true|false / OIDC_ROTATE_REFRESH_TOKENS   default true
//   OIDC_INTROSPECTION_SECRET                             the `dovecot` client's secret (env only:
//                                                         arguments are visible in `ps`)
//
// Output: one JSON object per line on stdout, never a token or a secret.
//   {"event":"ready","port":N,"issuer":"https://127.0.0.1:N"}         once, when it accepts
//   {"event":"token","grant_type":…,"client_id":…,"sub":…,"result":"ok"|ERROR_CODE,"status":N}
//   {"event":"introspection","client_id":…,"active":bool,"sub":…}
//   {"event":"grant_revoked","sub":…,"by":"refresh_token_reuse"|"code_reuse"|"test_hook"|…}
// oidc-provider's own warnings (development keys, devInteractions) go to stderr.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    cert: { type: 'string' },
    key: { type: 'string' },
    port: { type: 'string' },
    'access-token-ttl': { type: 'string' },
    'rotate-refresh-tokens': { type: 'string' },
  },
});

function setting(arg, env, fallback) {
  const value = args[arg] ?? process.env[env] ?? fallback;
  if (value === undefined) {
    fail(`missing --${arg} (or ${env})`);
  }
  return value;
}

function fail(message) {
  process.stderr.write(`oidc test server: ${message}\n`);
  process.exit(2);
}

function event(fields) {
  process.stdout.write(`${JSON.stringify(fields)}\n`);
}

const certFile = setting('cert', 'OIDC_CERT');
const keyFile = setting('key', 'OIDC_KEY');
const port = Number(setting('port', 'OIDC_PORT', '0'));
const accessTokenTtl = Number(setting('access-token-ttl', 'OIDC_ACCESS_TOKEN_TTL', '3600'));
const rotate = setting('rotate-refresh-tokens', 'OIDC_ROTATE_REFRESH_TOKENS', 'true');
const introspectionSecret = process.env.OIDC_INTROSPECTION_SECRET;
// Optional: a web application client `pushmail-relay` (confidential, client_secret_post) whose
// one redirect URI is the relay's `<public_url>/oauth/callback` (tests/tests/relay_signin.rs).
const relayRedirect = process.env.OIDC_RELAY_REDIRECT;
const relaySecret = process.env.OIDC_RELAY_SECRET;
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`bad port ${port}`);
if (!Number.isInteger(accessTokenTtl) || accessTokenTtl < 1) fail(`bad access-token TTL ${accessTokenTtl}`);
if (!['true', 'false'].includes(rotate)) fail(`--rotate-refresh-tokens must be true or false, not ${rotate}`);
if (!introspectionSecret) fail('OIDC_INTROSPECTION_SECRET is not set');

// The issuer must contain the port, so bind first and build the provider after.
const server = createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) });
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});
const { port: boundPort } = server.address();
const issuer = `https://127.0.0.1:${boundPort}`;

/** The IMAP-ish scope: what a mail server would ask for, like Google's `https://mail.google.com/`. */
const IMAP_SCOPE = 'imap';

const provider = new Provider(issuer, {
  clients: [
    ...(relayRedirect && relaySecret ? [{
      client_id: 'pushmail-relay',
      client_secret: relaySecret,
      application_type: 'web',
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [relayRedirect],
      scope: `openid offline_access email ${IMAP_SCOPE}`,
    }] : []),
    {
      client_id: 'pushmail',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      // RFC 8252 §7.3: for loopback IP redirects the port is not compared (oidc-provider does
      // this for native clients).
      // `/` too: what Pushmail's own providers send (Provider::redirect_path's default).
      redirect_uris: [
        'http://127.0.0.1/callback', 'http://[::1]/callback', 'http://127.0.0.1/', 'http://[::1]/',
      ],
      scope: `openid offline_access email ${IMAP_SCOPE}`,
    },
    {
      client_id: 'dovecot',
      client_secret: introspectionSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  scopes: ['openid', 'offline_access', 'email', IMAP_SCOPE],
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  // Every login name is an account: sub = the name typed on the login page.
  async findAccount(_ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return { sub, email: `${sub}@example.test`, email_verified: true };
      },
    };
  },
  features: {
    devInteractions: { enabled: true },
    // Only Dovecot introspects; a client may revoke only its own tokens.
    introspection: { enabled: true, allowedPolicy: (_ctx, client) => client.clientId === 'dovecot' },
    revocation: {
      enabled: true,
      allowedPolicy: (_ctx, client, token) => token.clientId === client.clientId,
    },
  },
  pkce: { required: () => true },
  rotateRefreshToken: () => rotate === 'true',
  ttl: {
    AccessToken: accessTokenTtl,
    AuthorizationCode: 60,
    IdToken: 3600,
    Interaction: 600,
    Grant: 14 * 24 * 3600,
    RefreshToken: 14 * 24 * 3600,
    Session: 3600,
  },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
});

// Grant ids per account, for the revoke hook: the memory adapter has no index by account.
const grantsBySub = new Map();
const subByGrant = new Map();
provider.on('grant.saved', (grant) => {
  if (!grant.accountId) return;
  if (!grantsBySub.has(grant.accountId)) grantsBySub.set(grant.accountId, new Set());
  grantsBySub.get(grant.accountId).add(grant.jti);
  subByGrant.set(grant.jti, grant.accountId);
});
provider.on('grant.revoked', (ctx, grantId) => {
  const by = ctx.oidc?.route === 'token'
    ? `${ctx.oidc.params?.grant_type === 'refresh_token' ? 'refresh_token' : 'code'}_reuse`
    : (ctx.oidc?.route ?? 'unknown');
  event({ event: 'grant_revoked', sub: subByGrant.get(grantId) ?? null, by });
});
provider.on('server_error', (_ctx, err) => {
  process.stderr.write(`oidc test server: server_error: ${err?.stack ?? err}\n`);
});

async function liveGrants(sub) {
  const live = [];
  for (const id of grantsBySub.get(sub) ?? []) {
    const grant = await provider.Grant.find(id);
    if (grant) live.push(id);
  }
  return live;
}

/** Everything a grant issued, then the grant itself: what a provider's "remove access" does. */
async function revokeGrant(id) {
  await Promise.all([
    provider.AccessToken.revokeByGrantId(id),
    provider.RefreshToken.revokeByGrantId(id),
    provider.AuthorizationCode.revokeByGrantId(id),
    provider.Grant.adapter.destroy(id),
  ]);
}

function subjectOf(ctx) {
  const e = ctx.oidc?.entities ?? {};
  return e.Account?.accountId ?? e.RefreshToken?.accountId ?? e.AuthorizationCode?.accountId
    ?? e.AccessToken?.accountId ?? e.Grant?.accountId ?? null;
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/test/revoke' || ctx.path === '/test/grants') {
    const sub = ctx.query.sub;
    if (typeof sub !== 'string' || sub === '') {
      ctx.status = 400;
      ctx.body = { error: 'sub is required' };
      return;
    }
    const live = await liveGrants(sub);
    if (ctx.path === '/test/grants' && ctx.method === 'GET') {
      ctx.body = { sub, grants: live.length };
      return;
    }
    if (ctx.path === '/test/revoke' && ctx.method === 'POST') {
      for (const id of live) {
        await revokeGrant(id);
        event({ event: 'grant_revoked', sub, by: 'test_hook' });
      }
      ctx.body = { sub, revoked: live.length };
      return;
    }
    ctx.status = 405;
    return;
  }

  await next();

  const route = ctx.oidc?.route;
  const failed = ctx.status >= 400;
  if (route === 'token') {
    event({
      event: 'token',
      grant_type: ctx.oidc.params?.grant_type ?? null,
      client_id: ctx.oidc.client?.clientId ?? null,
      sub: subjectOf(ctx),
      result: failed ? (ctx.body?.error ?? `http_${ctx.status}`) : 'ok',
      status: ctx.status,
    });
  } else if (route === 'introspection') {
    event({
      event: 'introspection',
      client_id: ctx.oidc.client?.clientId ?? null,
      active: ctx.body?.active === true,
      sub: ctx.body?.sub ?? null,
      result: failed ? (ctx.body?.error ?? `http_${ctx.status}`) : 'ok',
    });
  } else if (route === 'revocation') {
    event({
      event: 'revocation',
      client_id: ctx.oidc.client?.clientId ?? null,
      result: failed ? (ctx.body?.error ?? `http_${ctx.status}`) : 'ok',
    });
  }
});

server.on('request', provider.callback());
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
event({ event: 'ready', port: boundPort, issuer });

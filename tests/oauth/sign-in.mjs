// A headless "user" for the sign-in tests where the browser is not the point: given the
// authorization URL a client built, it does what a person does in the browser: opens it,
// types a login name and password on the login page, approves (or cancels) on the consent page,
// and reports where the server sent the browser in the end, normally the client's loopback
// redirect `http://127.0.0.1:PORT/callback?code=…&state=…&iss=…`.
//
// Plain HTTP requests that follow the pages' own forms, links and redirects with a cookie jar,
// as a browser would; nothing of oidc-provider's internals is used, so a page that changes
// shape fails here loudly instead of being papered over.
//
//   node sign-in.mjs --url AUTHORIZATION_URL --login NAME [--password PW] [--ca FILE]
//                    [--deny] [--follow]
//
//   --deny    press "Cancel" on the consent page instead of approving it (the server then
//             redirects with error=access_denied)
//   --follow  also request the final redirect (the client's loopback listener), as a browser
//             does, and report its answer
//   --ca      trust this PEM CA for https (the test CA); plain http needs none
//
// Output (stdout, one JSON object): {"redirect": URL|null, "pages": ["login","consent",…],
// "followed": {"status","content_type","cache_control","body"}|null, "error_page": TEXT|null}.
// The redirect carries the authorization code: it goes to the caller only, never to a log.
// Exit status 0 when the server redirected away from itself, 1 when it stopped on a page that
// is neither a login nor a consent form (an error page: error_page says what it showed).

import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parseArgs } from 'node:util';

/** A browser gives up on redirect loops after 20; so do we. */
const MAX_STEPS = 20;
/** Per request: every page here is served from loopback in milliseconds. */
const REQUEST_TIMEOUT_MS = 10_000;

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    login: { type: 'string' },
    password: { type: 'string', default: 'any password' },
    ca: { type: 'string' },
    deny: { type: 'boolean', default: false },
    follow: { type: 'boolean', default: false },
  },
});
if (!args.url || !args.login) {
  process.stderr.write('usage: node sign-in.mjs --url AUTHORIZATION_URL --login NAME [--password PW] [--ca FILE] [--deny] [--follow]\n');
  process.exit(2);
}
const ca = args.ca ? readFileSync(args.ca) : undefined;

/** name → value; every cookie goes back to the server that set it (one origin here). */
const jar = new Map();

function send(url, { method = 'GET', form } = {}) {
  const target = new URL(url);
  const body = form ? new URLSearchParams(form).toString() : undefined;
  const headers = { accept: 'text/html', 'user-agent': 'pushmail-tests sign-in' };
  const origin = target.origin;
  const cookies = [...(jar.get(origin) ?? new Map())].map(([k, v]) => `${k}=${v}`).join('; ');
  if (cookies) headers.cookie = cookies;
  if (body !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['content-length'] = Buffer.byteLength(body);
  }
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(target, { method, headers, ca, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        for (const line of res.headers['set-cookie'] ?? []) {
          const [pair] = line.split(';');
          const eq = pair.indexOf('=');
          if (!jar.has(origin)) jar.set(origin, new Map());
          jar.get(origin).set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
        }
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${target.origin}${target.pathname} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The page's one form: where it posts and its hidden fields. */
function parseForm(html) {
  const form = /<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return null;
  const fields = {};
  for (const input of form[2].matchAll(/<input\b[^>]*>/gi)) {
    const name = /\bname="([^"]*)"/i.exec(input[0])?.[1];
    const value = /\bvalue="([^"]*)"/i.exec(input[0])?.[1] ?? '';
    if (name) fields[name] = unescapeHtml(value);
  }
  return { action: unescapeHtml(form[1]), fields };
}

function unescapeHtml(text) {
  return text.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>').replace(/&#x2F;/g, '/').replace(/&amp;/g, '&');
}

function textOf(html) {
  return html.replace(/<style[\s\S]*?<\/style>/gi, '').replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ').trim().slice(0, 500);
}

const issuerOrigin = new URL(args.url).origin;
const pages = [];
let response = await send(args.url);
let current = args.url;
let redirect = null;
let errorPage = null;

for (let step = 0; step < MAX_STEPS; step += 1) {
  if (response.status >= 300 && response.status < 400 && response.headers.location) {
    const next = new URL(response.headers.location, current).toString();
    if (new URL(next).origin !== issuerOrigin) {
      redirect = next;
      break;
    }
    current = next;
    response = await send(next);
    continue;
  }
  const form = response.status === 200 ? parseForm(response.body) : null;
  const prompt = form?.fields.prompt;
  if (prompt === 'login') {
    pages.push('login');
    current = new URL(form.action, current).toString();
    response = await send(current, {
      method: 'POST',
      form: { ...form.fields, login: args.login, password: args.password },
    });
  } else if (prompt === 'consent') {
    pages.push('consent');
    if (args.deny) {
      // The page's "[ Cancel ]" link.
      const abort = /<a\b[^>]*href="([^"]*\/abort)"/i.exec(response.body)?.[1];
      if (!abort) {
        errorPage = 'consent page without a cancel link';
        break;
      }
      current = new URL(unescapeHtml(abort), current).toString();
      response = await send(current);
    } else {
      current = new URL(form.action, current).toString();
      response = await send(current, { method: 'POST', form: form.fields });
    }
  } else {
    errorPage = `HTTP ${response.status}: ${textOf(response.body)}`;
    break;
  }
}
if (!redirect && !errorPage) errorPage = `more than ${MAX_STEPS} steps without leaving ${issuerOrigin}`;

let followed = null;
if (redirect && args.follow) {
  const answer = await send(redirect);
  followed = {
    status: answer.status,
    content_type: answer.headers['content-type'] ?? null,
    cache_control: answer.headers['cache-control'] ?? null,
    body: answer.body,
  };
}

process.stdout.write(`${JSON.stringify({ redirect, pages, followed, error_page: errorPage })}\n`);
process.exit(redirect ? 0 : 1);

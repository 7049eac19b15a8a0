// The demo's browser page /app in headless Chromium: sign in with the
// cookie session, list and create items, survive an expired access token
// (silent refresh), resist a cross-site page, sign out; all under the
// page's Content-Security-Policy, with no violation reported.
//
// The demo is reached as http://localhost:<port>: Chromium counts
// localhost as a secure context, so it keeps the session's Secure and
// __Host- cookies over plain HTTP. The attacker's page is served from
// http://127.0.0.1:<another port>, another site, as a page on the web would
// be. The access token lives a few seconds (ROCKET_AUTH_ACCESS_TTL, leeway
// 0) so that the test can wait it out.
//
// Starts the demo binary itself (see demo-server.mjs). Screenshots go to
// target/browser/.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { artifacts, freePort, launchBrowser, startDemo, watchPage } from './demo-server.mjs';

/** The access-token lifetime the demo runs with, seconds. */
const ACCESS_TTL = 6;
const ACCESS_COOKIE = '__Host-access';
const REFRESH_COOKIE = '__Secure-refresh';
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
  + "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

let demo;
/** The demo as the browser reaches it. */
let app;
let context;
let page;
let cspViolations;
let consoleErrors;
let attacker;
/** Every response the browser got from the demo, in order, from any page:
 * `{ method, path, status, page, request, response, json }`, `json` the
 * body of a session answer (a promise), else null. */
const exchanges = [];
/** Requests the page /app sent anywhere but the demo. */
const foreignRequests = [];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The name of the first step that failed: each step builds on the ones
 * before, so the rest are skipped rather than failing on its account. */
let failedStep = null;

/** A test that is one step of the story, skipped after a failed one. */
function step(name, fn) {
  test(name, async (t) => {
    if (failedStep) {
      t.skip(`needs "${failedStep}"`);
      return;
    }
    try {
      await fn(t);
    } catch (error) {
      failedStep = name;
      throw error;
    }
  });
}

/** Adds an item owned by admin, outside the browser, so the list shows
 * someone else's item too. */
async function seedItem(name) {
  const login = await fetch(`${demo.base}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'admin', password: 'adminpass' }),
  });
  assert.equal(login.status, 200);
  const { access_token: token } = await login.json();
  const created = await fetch(`${demo.base}/items`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ name }),
  });
  assert.equal(created.status, 201);
}

/** The attacker's site: a page that, when opened, tries to create items
 * on the demo with the visitor's cookies, by fetch() and then by a form
 * (the kind a server accepts as JSON: text/plain, no preflight). The page
 * reports what fetch() got to its own server, in `server.reports`. */
function startAttacker(port, target) {
  const page = `<!doctype html>
<html><head><meta charset="utf-8"><title>You won a prize</title></head>
<body>
<h1>Claim your prize</h1>
<form id="csrf" method="POST" action="${target}/items" enctype="text/plain">
  <input type="hidden" name='{"name":"pwned-form' value='"}'>
</form>
<script>
  fetch('${target}/items', {
    method: 'POST',
    credentials: 'include',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'pwned' }),
  })
    .then((r) => 'answered ' + r.status, (e) => 'failed: ' + e.message)
    .then((outcome) => fetch('/report', { method: 'POST', body: outcome }))
    .finally(() => { document.getElementById('csrf').submit(); });
</script>
</body></html>`;
  const reports = [];
  const server = http.createServer(async (request, response) => {
    if (request.method === 'POST' && request.url === '/report') {
      let body = '';
      for await (const chunk of request) body += chunk;
      reports.push(body);
      response.writeHead(204);
      response.end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(page);
  });
  server.reports = reports;
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/** The session cookies the browser holds for the demo, by name. */
async function sessionCookies() {
  const cookies = await context.cookies();
  return Object.fromEntries(
    cookies.filter((c) => c.domain === 'localhost').map((c) => [c.name, c]),
  );
}

/** GET /items from the page with its cookies, nothing else: no refresh. */
function listItemsInPage() {
  return page.evaluate(async () => {
    const response = await fetch('/items', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    return { status: response.status, body: await response.json() };
  });
}

/** Has the page itself reload its list, which renews the session first if
 * the access token has expired: afterwards the cookies are fresh and the
 * page knows the current CSRF token. */
async function renewInPage() {
  const listed = page.waitForResponse(
    (r) => new URL(r.url()).pathname === '/items' && r.request().method() === 'GET' && r.status() === 200,
  );
  await page.click('#reload-items');
  await listed;
}

/** What the server last said about the session (POST /session, GET
 * /session or POST /session/refresh answering 200). */
async function lastSession() {
  const answers = exchanges.filter((e) => e.json);
  return answers.length ? answers.at(-1).json : null;
}

/** The names of the items the page lists. */
function shownItems() {
  return page.locator('#items .item-name').allTextContents();
}

async function waitForItem(name) {
  await page.locator('#items .item-name', { hasText: name }).first().waitFor();
}

function refreshCount() {
  return page.locator('#status').getAttribute('data-refreshes').then(Number);
}

before(async () => {
  demo = await startDemo({
    ROCKET_AUTH_ACCESS_TTL: String(ACCESS_TTL),
    ROCKET_AUTH_LEEWAY: '0',
  });
  app = `http://localhost:${demo.port}`;
  await seedItem('tape measure');

  ({ context, page } = await launchBrowser(path.join(demo.tmp, 'profile'), { width: 1280, height: 800 }));
  ({ cspViolations, consoleErrors } = await watchPage(page));
  page.on('request', (request) => {
    if (!request.url().startsWith(`${app}/`)) foreignRequests.push(request.url());
  });
  context.on('response', (response) => {
    const url = new URL(response.url());
    if (url.origin !== app) return;
    const method = response.request().method();
    const session = url.pathname === '/session/refresh' || (url.pathname === '/session' && method !== 'DELETE');
    exchanges.push({
      method,
      path: url.pathname,
      status: response.status(),
      page: response.frame()?.page(),
      request: response.request(),
      response,
      // Read at once: a body may be gone after the page navigates.
      json: session && response.status() === 200 ? response.json().catch(() => null) : null,
    });
  });
  fs.mkdirSync(artifacts, { recursive: true });
});

after(async () => {
  await context?.close();
  await new Promise((r) => (attacker ? attacker.close(r) : r()));
  await demo?.stop();
});

step('signed out, the page asks to sign in', async () => {
  const response = await page.goto(`${app}/app`);
  assert.equal(response.status(), 200);
  const headers = response.headers();
  assert.equal(headers['content-security-policy'], CSP);
  assert.equal(headers['x-content-type-options'], 'nosniff');
  assert.equal(headers['referrer-policy'], 'no-referrer');
  assert.equal(headers['cache-control'], 'no-store');
  assert.match(headers['content-type'], /^text\/html/);
  await page.locator('#login-view').waitFor();
  assert.ok(await page.locator('#session-view').isHidden());
  // On load it asked for the session, then tried to renew it.
  const asked = exchanges.map(({ method, path: p }) => `${method} ${p}`);
  assert.ok(asked.includes('GET /session'), asked.join(', '));
  assert.ok(asked.includes('POST /session/refresh'), asked.join(', '));
});

step('a wrong password shows the error', async () => {
  await page.fill('#username', 'johndoe');
  await page.fill('#password', 'not-the-password');
  const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/session' && r.request().method() === 'POST');
  await page.click('#login-button');
  const response = await answer;
  assert.ok([400, 401].includes(response.status()), `status ${response.status()}`);
  const body = await response.json();
  assert.equal(body.error, 'invalid_grant');
  const message = page.locator('#message');
  await message.waitFor();
  assert.equal(await message.textContent(), body.error_description);
  assert.ok(await page.locator('#session-view').isHidden());
});

let granted;

step('sign in: the user, the scopes and the items', async () => {
  await page.fill('#username', 'johndoe');
  await page.fill('#password', 'secret');
  const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/session' && r.request().method() === 'POST');
  await page.click('#login-button');
  const response = await answer;
  assert.equal(response.status(), 200, await response.text());
  granted = await response.json();
  assert.equal(granted.username, 'johndoe');
  assert.equal(granted.scope, 'read:items write:items');
  assert.equal(typeof granted.csrf_token, 'string');
  assert.ok(granted.csrf_token.length >= 16, 'a CSRF token worth the name');
  assert.ok(granted.expires_in > 0 && granted.expires_in <= ACCESS_TTL, `expires_in ${granted.expires_in}`);
  const sent = new URLSearchParams(response.request().postData());
  assert.deepEqual([...sent.keys()].sort(), ['password', 'username']);
  assert.match(response.request().headers()['content-type'], /^application\/x-www-form-urlencoded/);

  await page.locator('#session-view').waitFor();
  assert.ok(await page.locator('#message').isHidden(), 'the earlier error is gone');
  assert.equal(await page.locator('#who-name').textContent(), 'johndoe');
  assert.deepEqual(await page.locator('#scopes li').allTextContents(), ['read:items', 'write:items']);
  await waitForItem('tape measure');
  assert.deepEqual(await page.locator('#items li .item-owner').allTextContents(), ['admin']);
});

step('the session cookies are HttpOnly, Secure and SameSite=Strict, out of reach of scripts', async () => {
  const cookies = await sessionCookies();
  const access = cookies[ACCESS_COOKIE];
  const refresh = cookies[REFRESH_COOKIE];
  assert.ok(access, `${ACCESS_COOKIE} is set: ${Object.keys(cookies)}`);
  assert.ok(refresh, `${REFRESH_COOKIE} is set: ${Object.keys(cookies)}`);
  for (const cookie of [access, refresh]) {
    assert.equal(cookie.httpOnly, true, `${cookie.name} HttpOnly`);
    assert.equal(cookie.secure, true, `${cookie.name} Secure`);
    assert.equal(cookie.sameSite, 'Strict', `${cookie.name} SameSite`);
  }
  assert.equal(access.path, '/');
  assert.equal(refresh.path, '/session');

  const seen = await page.evaluate(() => ({
    cookie: document.cookie,
    stored: localStorage.length + sessionStorage.length,
  }));
  assert.doesNotMatch(seen.cookie, /access|refresh|eyJ/i, `document.cookie: ${seen.cookie}`);
  assert.ok(!seen.cookie.includes(granted.csrf_token), 'the CSRF token is no cookie');
  assert.ok(!seen.cookie.includes(access.value) && !seen.cookie.includes(refresh.value));
  assert.equal(seen.stored, 0, 'nothing in localStorage or sessionStorage');
});

step('create an item: sent with the CSRF token, then listed', async () => {
  await page.fill('#item-name', 'hammer');
  const answer = page.waitForResponse(
    (r) => new URL(r.url()).pathname === '/items' && r.request().method() === 'POST' && r.status() !== 401,
  );
  await page.click('#item-button');
  const response = await answer;
  assert.equal(response.status(), 201, await response.text());
  assert.equal(response.request().headers()['x-csrf-token'], (await lastSession()).csrf_token);
  const item = await response.json();
  assert.deepEqual([item.name, item.owner], ['hammer', 'johndoe']);
  await waitForItem('hammer');
  assert.equal(await page.inputValue('#item-name'), '', 'the form is cleared');
});

step('a cross-site page cannot create items with the visitor\'s cookies', async () => {
  // A fresh access token, so that the victim's session is live throughout.
  await renewInPage();
  assert.ok((await sessionCookies())[ACCESS_COOKIE], 'the victim holds an access cookie');

  const port = await freePort();
  attacker = await startAttacker(port, app);
  const evil = await context.newPage();
  const formPost = evil.waitForResponse(
    (r) => r.url() === `${app}/items` && r.request().method() === 'POST' && r.request().isNavigationRequest(),
  );
  await evil.goto(`http://127.0.0.1:${port}/`);
  const formResponse = await formPost;
  const theirs = exchanges.filter((e) => e.page === evil);
  const sent = await Promise.all(theirs.map(async (e) => (await e.request.allHeaders()).cookie ?? ''));
  const cookieAfter = (await sessionCookies())[ACCESS_COOKIE];
  await evil.close();

  // The form's POST reached the demo, without the session's cookie, and
  // was refused.
  assert.ok(theirs.some((e) => e.method === 'POST' && e.path === '/items'), 'the form was posted');
  assert.ok([401, 403].includes(formResponse.status()), `form POST answered ${formResponse.status()}`);
  theirs.forEach((e, i) => {
    assert.ok(e.status >= 400, `${e.method} ${e.path} answered ${e.status} to the attacker`);
    assert.ok(!sent[i].includes(ACCESS_COOKIE), `${e.method} ${e.path} carried the session: ${sent[i]}`);
  });
  // fetch() either never left the browser (no CORS preflight passes) or
  // was refused.
  assert.equal(attacker.reports.length, 1, 'the attacker\'s fetch() finished before the form');
  assert.doesNotMatch(attacker.reports[0], /answered 2\d\d/);

  // The victim's session was live during the attack, and nothing was
  // created.
  assert.ok(
    cookieAfter && (cookieAfter.expires === -1 || cookieAfter.expires * 1000 > Date.now()),
    'the access cookie outlived the attack',
  );
  await renewInPage();
  const names = await shownItems();
  assert.deepEqual(names.filter((name) => /pwned/.test(name)), [], names.join(', '));
  assert.deepEqual(names.sort(), ['hammer', 'tape measure']);
});

step('an expired access token is refreshed silently', async () => {
  const refreshed = await refreshCount();
  const start = exchanges.length;
  // Past the access token's lifetime (with the leeway set to 0).
  await sleep(ACCESS_TTL * 1000 + 1500);
  await page.fill('#item-name', 'screwdriver');
  const created = page.waitForResponse(
    (r) => new URL(r.url()).pathname === '/items' && r.request().method() === 'POST' && r.status() === 201,
  );
  await page.click('#item-button');
  const response = await created;
  await waitForItem('screwdriver');
  assert.equal(await refreshCount(), refreshed + 1, 'one silent refresh');
  assert.match(await page.locator('#status').textContent(), /./);
  assert.ok(await page.locator('#message').isHidden(), 'no error shown');

  // Refused as expired, refreshed, sent again with the new CSRF token.
  const sequence = exchanges.slice(start).filter((e) => e.page === page);
  const steps = sequence.map((e) => `${e.method} ${e.path} ${e.status}`);
  const first = steps.indexOf('POST /items 401');
  assert.ok(first >= 0, steps.join(', '));
  assert.equal(steps[first + 1], 'POST /session/refresh 200', steps.join(', '));
  assert.equal(steps[first + 2], 'POST /items 201', steps.join(', '));
  const renewed = await sequence[first + 1].json;
  assert.equal(renewed.username, 'johndoe');
  assert.equal(renewed.scope, 'read:items write:items');
  assert.equal(response.request().headers()['x-csrf-token'], renewed.csrf_token);
  const challenge = await sequence[first].response.headerValue('www-authenticate');
  assert.match(challenge ?? '', /^Bearer /);

  await page.screenshot({ path: path.join(artifacts, 'app-logged-in.png') });
});

step('on load after the access token expired, the page renews the session', async () => {
  await sleep(ACCESS_TTL * 1000 + 1500);
  const start = exchanges.length;
  await page.reload();
  await page.locator('#session-view').waitFor();
  await waitForItem('screwdriver');
  assert.deepEqual((await shownItems()).sort(), ['hammer', 'screwdriver', 'tape measure']);
  const steps = exchanges.slice(start).filter((e) => e.page === page).map((e) => `${e.method} ${e.path} ${e.status}`);
  assert.ok(steps.includes('GET /session 401'), steps.join(', '));
  assert.ok(steps.includes('POST /session/refresh 200'), steps.join(', '));
  assert.equal(await refreshCount(), 1, 'the reloaded page refreshed once');
});

step('the page works on a narrow screen', async () => {
  await page.setViewportSize({ width: 375, height: 740 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `${overflow}px wider than the screen`);
  assert.ok(await page.locator('#sign-out').isVisible());
  assert.ok(await page.locator('#item-button').isVisible());
  await page.setViewportSize({ width: 1280, height: 800 });
});

step('a cookie-authenticated POST without the CSRF token is refused', async () => {
  // Fresh cookies first: the refusal must be for the token, not expiry.
  await renewInPage();
  const answers = await page.evaluate(async () => {
    const post = (headers) => fetch('/items', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify({ name: 'no token' }),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
    return [await post({}), await post({ 'X-CSRF-Token': 'not-the-token' })];
  });
  for (const answer of answers) {
    assert.equal(answer.status, 403, JSON.stringify(answer));
    assert.equal(typeof answer.body.error, 'string');
  }
  const listed = await listItemsInPage();
  assert.equal(listed.status, 200);
  const names = listed.body.map((item) => item.name);
  assert.ok(!names.includes('no token'), names.join(', '));
});

step('sign out ends the session', async () => {
  const held = await sessionCookies();
  assert.ok(held[REFRESH_COOKIE]);
  const answer = page.waitForResponse((r) => new URL(r.url()).pathname === '/session' && r.request().method() === 'DELETE' && r.status() !== 401);
  await page.click('#sign-out');
  const response = await answer;
  assert.equal(response.status(), 204);
  assert.equal(response.request().headers()['x-csrf-token'], (await lastSession()).csrf_token);
  await page.locator('#login-view').waitFor();
  assert.ok(await page.locator('#session-view').isHidden());
  assert.equal(await page.locator('#items li').count(), 0, 'the items are gone from the page');
  const left = await sessionCookies();
  assert.deepEqual(Object.keys(left).filter((n) => n === ACCESS_COOKIE || n === REFRESH_COOKIE), []);
  await page.screenshot({ path: path.join(artifacts, 'app-logged-out.png') });

  // The browser's cookies no longer open the API.
  const items = await page.evaluate(async () => (await fetch('/items', { credentials: 'same-origin' })).status);
  assert.equal(items, 401);

  // The refresh token is dead on the server too, not only forgotten by the
  // browser: presented again, it is refused.
  const old = held[REFRESH_COOKIE];
  await context.addCookies([{
    name: old.name,
    value: old.value,
    domain: old.domain,
    path: old.path,
    secure: old.secure,
    httpOnly: old.httpOnly,
    sameSite: old.sameSite,
    expires: old.expires,
  }]);
  const replay = page.waitForResponse((r) => new URL(r.url()).pathname === '/session/refresh');
  const status = await page.evaluate(async () => (await fetch('/session/refresh', { method: 'POST', credentials: 'same-origin' })).status);
  const replayed = await replay;
  const sentCookies = (await replayed.request().allHeaders()).cookie ?? '';
  assert.ok(sentCookies.includes(`${REFRESH_COOKIE}=`), 'the old refresh cookie was sent');
  assert.ok([400, 401].includes(status), `refresh after sign-out answered ${status}`);
  await context.clearCookies();
});

test('no Content-Security-Policy violation, no foreign request, no unexpected console error', () => {
  assert.deepEqual(cspViolations, [], 'the page works within its Content-Security-Policy');
  assert.deepEqual(foreignRequests, [], 'the page loads nothing from elsewhere');
  // Chromium logs every 4xx answer to fetch() as a failed load: the 401s
  // (signed out, expired token), a refused password or refresh (400 or 401
  // on /session), and the deliberate requests without a CSRF token (403).
  const expected = (text) => /status of 401/.test(text)
    || (/status of 400/.test(text) && /\/session(\/refresh)?\)$/.test(text))
    || (/status of 403/.test(text) && /\/items\)$/.test(text));
  assert.deepEqual(consoleErrors.filter((text) => !expected(text)), [], 'no console errors');
});

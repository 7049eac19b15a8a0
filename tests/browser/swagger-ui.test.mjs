// Swagger UI of the demo app in headless Chromium: authorize with the
// password flow, call protected routes, log out; all under the docs'
// Content-Security-Policy, with no violation reported.
//
// Starts the demo binary itself on a free port with a temporary database,
// and stops it at the end (see demo-server.mjs for the binary and Chromium
// it uses). Screenshots go to target/browser/.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { artifacts, launchBrowser, startDemo, watchPage } from './demo-server.mjs';

/** Adds two items as johndoe, outside the browser, so GET /items has
 * something to show. */
async function seedItems() {
  const login = await fetch(`${base}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'johndoe', password: 'secret', scope: 'write:items' }),
  });
  assert.equal(login.status, 200);
  const { access_token: token } = await login.json();
  for (const name of ['hammer', 'screwdriver']) {
    const created = await fetch(`${base}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ name }),
    });
    assert.equal(created.status, 201);
  }
}

let demo;
let base;
let context;
let page;
const foreignRequests = [];
const tokenRequests = [];
// Content-Security-Policy violations the page reported, and console errors
// (Chromium logs every refused load or inline script there too).
let cspViolations;
let consoleErrors;

before(async () => {
  demo = await startDemo();
  base = demo.base;
  await seedItems();

  ({ context, page } = await launchBrowser(path.join(demo.tmp, 'profile')));
  ({ cspViolations, consoleErrors } = await watchPage(page));
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(base) && !url.startsWith('data:')) foreignRequests.push(url);
    if (new URL(url, base).pathname === '/token') tokenRequests.push(request);
  });
  fs.mkdirSync(artifacts, { recursive: true });
});

after(async () => {
  await context?.close();
  await demo?.stop();
});

/** Opens the operation's panel in "Try it out" mode, fills `params` (name
 * to value), clicks Execute and returns the HTTP response and the status
 * Swagger UI shows. */
async function execute(operationId, method, urlPath, params = {}) {
  const block = page.locator(`#operations-default-${operationId}`);
  if (!(await block.locator('button.execute').isVisible())) {
    if (!(await block.locator('.try-out__btn').isVisible())) {
      await block.locator('.opblock-summary').first().click();
    }
    await block.locator('.try-out__btn').click();
  }
  for (const [name, value] of Object.entries(params)) {
    await block.locator(`tr[data-param-name="${name}"] input`).fill(value);
  }
  const responsePromise = page.waitForResponse(
    (r) => new URL(r.url()).pathname === urlPath && r.request().method() === method,
  );
  await block.locator('button.execute').click();
  const response = await responsePromise;
  const shown = block.locator('.live-responses-table tr.response .response-col_status');
  await assert.doesNotReject(
    shown.filter({ hasText: String(response.status()) }).waitFor(),
    'Swagger UI shows the status',
  );
  return { response, block };
}

// The dialog lists every scheme (password flow, client credentials, the
// session cookie, API keys); the tests use the password flow's form.
const passwordForm = () => page.locator('.auth-container', { hasText: 'OAuth2PasswordBearer' });

async function openAuthorizeDialog() {
  await page.locator('.auth-wrapper .btn.authorize').click();
  await page.locator('.modal-ux').waitFor();
}

test('Swagger UI: authorize, call protected routes, log out', async () => {
  const docs = await page.goto(`${base}/docs`);
  await page.locator('.auth-wrapper .btn.authorize').waitFor();
  assert.match(page.url(), /\/docs\/index\.html$/);
  // The page is served under a strict Content-Security-Policy.
  const csp = docs.headers()['content-security-policy'] ?? '';
  for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'",
    "connect-src 'self'", "img-src 'self' data:", "frame-ancestors 'none'", "base-uri 'none'",
    "form-action 'self'"]) {
    assert.ok(csp.includes(directive), `${directive} in ${csp}`);
  }
  assert.equal(docs.headers()['x-content-type-options'], 'nosniff');

  // Authorize as johndoe with read:items only.
  await openAuthorizeDialog();
  await page.fill('#oauth_username', 'johndoe');
  await page.fill('#oauth_password', 'secret');
  await page.locator('label[for="read:items-password-checkbox-OAuth2PasswordBearer"]').click();
  const login = page.waitForResponse((r) => new URL(r.url()).pathname === '/token');
  await passwordForm().locator('.auth-btn-wrapper .btn.authorize').click();
  const loginResponse = await login;
  assert.equal(loginResponse.status(), 200, await loginResponse.text());
  const granted = await loginResponse.json();
  assert.equal(granted.scope, 'read:items');
  const loginRequest = tokenRequests.at(-1);
  const loginForm = new URLSearchParams(loginRequest.postData());
  assert.equal(loginForm.get('grant_type'), 'password');
  assert.equal(loginForm.get('username'), 'johndoe');
  assert.equal(loginForm.get('scope'), 'read:items');
  // Swagger UI's default: client credentials in an (empty) Basic header.
  assert.equal(loginRequest.headers().authorization, 'Basic Og==');
  await passwordForm().locator('.auth-btn-wrapper button', { hasText: 'Logout' }).waitFor();
  await passwordForm().locator('.auth-btn-wrapper .btn-done').click();
  await page.locator('.modal-ux').waitFor({ state: 'detached' });

  // The granted scope lets GET /items through.
  const items = await execute('list_items', 'GET', '/items');
  assert.equal(items.response.status(), 200);
  assert.match(items.response.request().headers().authorization ?? '', /^Bearer \S+$/);
  const list = await items.response.json();
  assert.deepEqual(
    list.map(({ name, owner }) => [name, owner]),
    [['hammer', 'johndoe'], ['screwdriver', 'johndoe']],
  );
  assert.deepEqual(Object.keys(list[0]).sort(), ['id', 'name', 'owner']);
  await items.block.scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(artifacts, 'swagger-authorized.png') });
  // A small overview for the README: the page from the top to the body of
  // the response, zoomed out.
  const bottom = await page.evaluate((id) => {
    document.body.style.zoom = '0.6';
    const body = document.querySelector(`#operations-default-${id} .live-responses-table .highlight-code`);
    return Math.ceil(body.getBoundingClientRect().bottom + window.scrollY) + 8;
  }, 'list_items');
  await page.screenshot({
    path: path.join(artifacts, 'swagger-overview.png'),
    fullPage: true,
    clip: { x: 0, y: 0, width: 1100, height: bottom },
  });
  await page.evaluate(() => { document.body.style.zoom = ''; });

  // Routes needing scopes the token does not hold.
  const admin = await execute('admin_users', 'GET', '/admin/users');
  assert.equal(admin.response.status(), 403);
  assert.equal((await admin.response.json()).error, 'insufficient_scope');
  const create = await execute('create_item', 'POST', '/items');
  assert.equal(create.response.status(), 403);
  assert.equal((await create.response.json()).error, 'insufficient_scope');
  // DELETE /items/{id} takes write:items or admin: the document lists both
  // requirements, and the 403 challenge names the first.
  const id = String(list[0].id);
  const remove = await execute('delete_item', 'DELETE', `/items/${id}`, { id });
  assert.equal(remove.response.status(), 403);
  assert.match(remove.response.headers()['www-authenticate'] ?? '', /, scope="write:items"$/);
  assert.equal((await remove.response.json()).error, 'insufficient_scope');
  const spec = await (await fetch(`${base}/openapi.json`)).json();
  assert.deepEqual(spec.paths['/items/{id}'].delete.security, [
    { OAuth2PasswordBearer: ['write:items'] },
    { OAuth2PasswordBearer: ['admin'] },
    { OAuth2ClientCredentials: ['write:items'] },
    { OAuth2ClientCredentials: ['admin'] },
    { SessionCookie: [] },
    { ApiKey: [] },
  ]);

  // Log out in the dialog: the next call carries no token.
  await openAuthorizeDialog();
  await passwordForm().locator('.auth-btn-wrapper button', { hasText: 'Logout' }).click();
  await passwordForm().locator('.auth-btn-wrapper .btn-done').click();
  const anonymous = await execute('list_items', 'GET', '/items');
  assert.equal(anonymous.response.status(), 401);
  assert.equal(anonymous.response.request().headers().authorization, undefined);
  assert.equal((await anonymous.response.json()).error, 'unauthorized');

  assert.deepEqual(foreignRequests, [], 'Swagger UI loads nothing from other origins');
  assert.deepEqual(cspViolations, [], 'Swagger UI works within its Content-Security-Policy');
  // The 401 and 403 answers above are logged by Chromium as failed loads,
  // as are the favicons rocket_okapi's index.html names but does not ship;
  // anything else is an error of the page.
  const unexpected = consoleErrors.filter(
    (text) => !/status of 40[13]/.test(text) && !/status of 404 .*\/favicon-\d+x\d+\.png\)$/.test(text),
  );
  assert.deepEqual(unexpected, [], 'no console errors');
});

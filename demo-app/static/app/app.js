// The demo's browser page: signs in with the cookie session (/session),
// lists and creates items, signs out.
//
// The session lives in two HttpOnly cookies this script never sees. The
// only secret it holds is the CSRF token, in a variable (never in storage
// or a cookie), sent as X-CSRF-Token with every request that changes
// something. When an access token has expired the API answers 401: the
// page then refreshes the session once (POST /session/refresh) and retries;
// if that fails it shows the sign-in form. Text from the server or the user
// is only ever shown with textContent, never parsed as HTML.
'use strict';

(() => {
  /** The CSRF token of the current session, or null when signed out. */
  let csrfToken = null;
  /** The session as the server last described it. */
  let session = null;
  /** The refresh under way, shared by every request that needs one. */
  let refreshing = null;
  /** How many silent refreshes succeeded since the page loaded. */
  let refreshes = 0;

  const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

  const el = (id) => document.getElementById(id);
  const ui = {
    message: el('message'),
    notice: el('notice'),
    loading: el('loading'),
    loginView: el('login-view'),
    loginForm: el('login-form'),
    loginButton: el('login-button'),
    username: el('username'),
    password: el('password'),
    sessionView: el('session-view'),
    whoName: el('who-name'),
    signOut: el('sign-out'),
    scopes: el('scopes'),
    reloadItems: el('reload-items'),
    itemsNote: el('items-note'),
    items: el('items'),
    itemsEmpty: el('items-empty'),
    itemForm: el('item-form'),
    itemName: el('item-name'),
    itemButton: el('item-button'),
    status: el('status'),
  };

  /** The session ended and could not be renewed: the caller stops. */
  class SessionEnded extends Error {}

  function showError(text) {
    ui.message.textContent = text;
    ui.message.hidden = false;
  }

  function clearError() {
    ui.message.textContent = '';
    ui.message.hidden = true;
  }

  function setStatus(text) {
    ui.status.textContent = text;
  }

  /** What went wrong, from an error response's JSON body if it has one. */
  async function describe(response) {
    try {
      const body = await response.json();
      if (body && typeof body.error_description === 'string' && body.error_description) {
        return body.error_description;
      }
      if (body && typeof body.error === 'string') return body.error;
    } catch {
      // not JSON
    }
    return `The server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}.`;
  }

  /** Takes what the server says about the session (from POST /session,
   * GET /session or POST /session/refresh). */
  function adopt(body) {
    session = body;
    csrfToken = typeof body.csrf_token === 'string' ? body.csrf_token : null;
  }

  function forget() {
    session = null;
    csrfToken = null;
  }

  /** POST /session/refresh: new cookies and CSRF token, or null when there
   * is no session to renew. Concurrent callers share one request, so a
   * refresh token is never presented twice. */
  function refreshSession() {
    if (!refreshing) {
      refreshing = (async () => {
        const response = await fetch('/session/refresh', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { Accept: 'application/json' },
          cache: 'no-store',
        });
        if (!response.ok) return null;
        const body = await response.json();
        adopt(body);
        refreshes += 1;
        ui.status.dataset.refreshes = String(refreshes);
        setStatus(`Session refreshed at ${new Date().toLocaleTimeString()}.`);
        return body;
      })().finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  }

  /** A request to the API with the session's cookies (and its CSRF token
   * when `method` is unsafe). On 401 the session is refreshed once and
   * the request sent again; if the session cannot be renewed the sign-in
   * form is shown and SessionEnded thrown. */
  async function api(method, path, json) {
    const send = () => {
      const headers = { Accept: 'application/json' };
      if (UNSAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
      const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
      if (json !== undefined) {
        headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(json);
      }
      return fetch(path, init);
    };
    let response = await send();
    if (response.status === 401) {
      const renewed = await refreshSession();
      if (!renewed) {
        showLogin();
        showError('Your session has ended. Please sign in again.');
        throw new SessionEnded();
      }
      response = await send();
      if (response.status === 401) {
        const why = await describe(response);
        showLogin();
        showError(why);
        throw new SessionEnded();
      }
    }
    return response;
  }

  function showLogin() {
    forget();
    ui.loading.hidden = true;
    ui.sessionView.hidden = true;
    ui.items.replaceChildren();
    ui.loginView.hidden = false;
    ui.loginButton.disabled = false;
    ui.password.value = '';
    ui.username.focus();
  }

  function showSession() {
    const scopes = typeof session.scope === 'string'
      ? session.scope.split(' ').filter((s) => s)
      : [];
    ui.whoName.textContent = session.username;
    ui.scopes.replaceChildren(...scopes.map((scope) => {
      const chip = document.createElement('li');
      chip.textContent = scope;
      return chip;
    }));
    ui.itemForm.hidden = !scopes.includes('write:items');
    ui.loading.hidden = true;
    ui.loginView.hidden = true;
    ui.sessionView.hidden = false;
    if (scopes.includes('read:items')) {
      ui.itemsNote.hidden = true;
      ui.reloadItems.hidden = false;
      loadItems();
    } else {
      ui.items.replaceChildren();
      ui.itemsEmpty.hidden = true;
      ui.reloadItems.hidden = true;
      ui.itemsNote.textContent = 'Listing items needs the read:items scope.';
      ui.itemsNote.hidden = false;
    }
  }

  function itemRow(item) {
    const row = document.createElement('li');
    const name = document.createElement('span');
    name.className = 'item-name';
    name.textContent = item.name;
    const owner = document.createElement('span');
    owner.className = 'item-owner';
    owner.textContent = item.owner;
    row.append(name, owner);
    return row;
  }

  function renderItems(items) {
    ui.items.replaceChildren(...items.map(itemRow));
    ui.itemsEmpty.hidden = items.length > 0;
  }

  /** Reports a failure of `task`; SessionEnded was reported already. */
  async function guarded(task) {
    try {
      await task();
    } catch (error) {
      if (error instanceof SessionEnded) return;
      showError(error instanceof TypeError
        ? 'The server could not be reached.'
        : String(error && error.message ? error.message : error));
    }
  }

  function loadItems() {
    return guarded(async () => {
      const response = await api('GET', '/items');
      if (!response.ok) {
        showError(await describe(response));
        return;
      }
      renderItems(await response.json());
    });
  }

  async function signIn(event) {
    event.preventDefault();
    clearError();
    ui.loginButton.disabled = true;
    await guarded(async () => {
      const response = await fetch('/session', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { Accept: 'application/json' },
        body: new URLSearchParams({
          username: ui.username.value,
          password: ui.password.value,
        }),
        cache: 'no-store',
      });
      if (!response.ok) {
        const why = await describe(response);
        ui.password.value = '';
        ui.password.focus();
        showError(why);
        return;
      }
      ui.password.value = '';
      adopt(await response.json());
      setStatus('Signed in.');
      showSession();
    });
    ui.loginButton.disabled = false;
  }

  async function addItem(event) {
    event.preventDefault();
    clearError();
    const name = ui.itemName.value;
    ui.itemButton.disabled = true;
    await guarded(async () => {
      const response = await api('POST', '/items', { name });
      if (response.status !== 201) {
        showError(await describe(response));
        return;
      }
      const item = await response.json();
      ui.itemName.value = '';
      setStatus('Item added.');
      await loadItems();
      ui.items.dataset.lastCreated = String(item.id);
    });
    ui.itemButton.disabled = false;
  }

  async function signOut() {
    clearError();
    ui.signOut.disabled = true;
    await guarded(async () => {
      const response = await api('DELETE', '/session');
      if (!response.ok) {
        showError(await describe(response));
        return;
      }
      showLogin();
      setStatus('Signed out.');
    });
    ui.signOut.disabled = false;
  }

  /** On load: the current session (GET /session), or a renewed one, or
   * the sign-in form. */
  async function start() {
    if (!window.isSecureContext) {
      // Browsers keep Secure cookies only for HTTPS and localhost.
      ui.notice.textContent = 'Open this page over HTTPS or at http://localhost: '
        + 'here the browser will not keep the session cookies.';
      ui.notice.hidden = false;
    }
    await guarded(async () => {
      const response = await fetch('/session', {
        credentials: 'same-origin',
        headers: { Accept: 'application/json' },
        cache: 'no-store',
      });
      if (response.ok) {
        adopt(await response.json());
        showSession();
        return;
      }
      if (response.status === 401 && (await refreshSession())) {
        showSession();
        return;
      }
      showLogin();
    });
    if (!session && ui.loginView.hidden) showLogin();
  }

  ui.loginForm.addEventListener('submit', signIn);
  ui.itemForm.addEventListener('submit', addItem);
  ui.signOut.addEventListener('click', signOut);
  ui.reloadItems.addEventListener('click', () => {
    clearError();
    loadItems();
  });
  start();
})();

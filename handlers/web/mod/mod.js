/*
 * Parley moderation dashboard. Same origin as the API: the session cookie
 * travels by itself (credentials: 'same-origin'); every unsafe request also
 * carries the X-CSRF-Token the session answer gave. All server text is put
 * in the page as text nodes; highlighting builds <mark> elements around text
 * nodes, never HTML strings.
 */
(function () {
  'use strict';

  var QUEUES = ['pending', 'reported', 'spam', 'approved', 'rejected'];
  var COUNTED = ['pending', 'reported', 'spam'];
  var QUEUE_TITLES = { pending: 'Pending', reported: 'Reported', spam: 'Spam', approved: 'Approved', rejected: 'Rejected' };
  var VIEWS = ['insights', 'notices', 'appeals', 'bans', 'audit', 'sites', 'moderators'];
  var ACTION_DONE = { approve: 'Approved', reject: 'Rejected', spam: 'Marked as spam', restore: 'Restored' };
  var ACTION_STATUS = { approve: 'approved', reject: 'rejected', spam: 'spam' };
  var POLL_MS = 15000;
  var PAGE = 50;
  var STORE_SITE = 'parley-mod:site';
  var STORE_SORT = 'parley-mod:sort';
  var CONFLICT_TEXT = 'Another moderator already handled this';
  var STORE_LANG = 'parley-mod:lang';
  var STORE_SIGNED_IN = 'parley-mod:signed-in';
  // Languages with a translation in i18n-<lang>.json, keyed by the English.
  var LANGS = ['fr'];

  /* ---------------------------------------------------------------- */
  /* Language                                                          */
  /* ---------------------------------------------------------------- */

  var dict = null;
  function tr(s) { return dict && Object.prototype.hasOwnProperty.call(dict, s) ? dict[s] : s; }

  // pickLang: the language chosen in this browser, else the browser's first
  // one the dashboard speaks, else English.
  function pickLang() {
    var tries = [storage.get(STORE_LANG)].concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < tries.length; i++) {
      var l = String(tries[i] || '').slice(0, 2).toLowerCase();
      if (l === 'en' || LANGS.indexOf(l) >= 0) return l;
    }
    return 'en';
  }

  // Comments, names and server messages are never translated, even when
  // they happen to read like a text of the dashboard.
  var RAW = '.card-body, .author, .article, .article-key, .report-note, .chip, .mono, td, code, #whoami, #toasts, #site-filter option[value]:not([value=""]), label.site-check';

  // translateTree swaps every text and label under root that is a known
  // English text; the observer does it for whatever is drawn later.
  function translateTree(root) {
    if (!dict) return;
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    var n;
    while ((n = walker.nextNode())) {
      var t = n.nodeValue.trim();
      if (!t || !Object.prototype.hasOwnProperty.call(dict, t)) continue;
      if (n.parentElement && n.parentElement.closest(RAW)) continue;
      n.nodeValue = n.nodeValue.replace(t, dict[t]);
    }
    var els = root.nodeType === 1 ? [root].concat(Array.prototype.slice.call(root.querySelectorAll('[placeholder], [aria-label], [title]'))) : [];
    els.forEach(function (e) {
      ['placeholder', 'aria-label', 'title'].forEach(function (a) {
        var v = e.getAttribute && e.getAttribute(a);
        if (v && Object.prototype.hasOwnProperty.call(dict, v)) e.setAttribute(a, dict[v]);
      });
    });
  }

  function loadLang() {
    var lang = pickLang();
    if (lang === 'en') return Promise.resolve();
    return fetch('/mod/i18n-' + lang + '.json', { credentials: 'same-origin' }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (d) {
      if (!d) return;
      dict = d;
      document.documentElement.lang = lang;
      absFmt = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' });
      if (relFmt) relFmt = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
      translateTree(document.body);
      document.title = tr(document.title);
      new MutationObserver(function (records) {
        records.forEach(function (rec) {
          if (rec.type === 'characterData') {
            if (rec.target.parentNode) translateTree(rec.target.parentNode);
            return;
          }
          rec.addedNodes.forEach(function (a) { translateTree(a.nodeType === 1 ? a : a.parentNode || a); });
        });
      }).observe(document.body, { childList: true, subtree: true });
    }, function () { /* English, then */ });
  }

  /* ---------------------------------------------------------------- */
  /* Small helpers                                                     */
  /* ---------------------------------------------------------------- */

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  var PROPS = { value: 1, checked: 1, disabled: 1, hidden: 1, selected: 1 };
  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === 'class') node.className = v;
        else if (k === 'text') node.textContent = v;
        else if (k.slice(0, 2) === 'on' && typeof v === 'function') node.addEventListener(k.slice(2), v);
        else if (PROPS[k]) node[k] = v;
        else node.setAttribute(k, v === true ? '' : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }
  function append(node, kid) {
    if (kid === null || kid === undefined || kid === false) return;
    if (Array.isArray(kid)) { kid.forEach(function (k) { append(node, k); }); return; }
    node.appendChild(typeof kid === 'object' ? kid : document.createTextNode(String(kid)));
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  var storage = {
    get: function (k) { try { return window.localStorage.getItem(k); } catch (e) { return null; } },
    set: function (k, v) { try { window.localStorage.setItem(k, v); } catch (e) { /* ignore */ } }
  };

  var absFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  var relFmt = typeof Intl.RelativeTimeFormat === 'function' ? new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' }) : null;

  function timeEl(iso, cls) {
    if (!iso) return el('span', { class: 'muted' }, '—');
    var d = new Date(iso);
    if (isNaN(d.getTime())) return el('span', { class: cls || '' }, String(iso));
    return el('time', { class: cls || 'time', datetime: iso, title: absFmt.format(d) }, relative(d));
  }
  function relative(d) {
    var sec = Math.round((d.getTime() - Date.now()) / 1000);
    var a = Math.abs(sec);
    if (!relFmt || a >= 7 * 86400) return absFmt.format(d);
    if (a < 45) return relFmt.format(0, 'second');
    if (a < 3600) return relFmt.format(Math.round(sec / 60), 'minute');
    if (a < 86400) return relFmt.format(Math.round(sec / 3600), 'hour');
    return relFmt.format(Math.round(sec / 86400), 'day');
  }

  function short(hash) { return String(hash).slice(0, 8); }

  function safeURL(u) {
    if (!u) return null;
    try {
      var parsed = new URL(String(u), window.location.href);
      return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null;
    } catch (e) { return null; }
  }

  // text renders anything the API may send (string, number, object) as text.
  function text(v) {
    if (v === null || v === undefined || v === '') return '';
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
    if (typeof v === 'object') {
      if (v.email) return String(v.email);
      if (v.type && v.id !== undefined) return v.type + ' #' + v.id;
      if (v.kind && v.id !== undefined) return v.kind + ' #' + v.id;
      if (v.slug) return String(v.slug);
      if (v.name) return String(v.name);
      try { return JSON.stringify(v); } catch (e) { return String(v); }
    }
    return String(v);
  }

  function listFrom(data, keys) {
    if (Array.isArray(data)) return data;
    if (!data || typeof data !== 'object') return [];
    for (var i = 0; i < keys.length; i++) if (Array.isArray(data[keys[i]])) return data[keys[i]];
    return [];
  }

  function errorMessage(r) {
    if (!r) return 'Something went wrong.';
    if (r.status === 0) return 'The server could not be reached.';
    var e = r.error || {};
    var msg = e.message || ('Request failed (' + r.status + ')');
    if (e.fields && typeof e.fields === 'object') {
      var parts = Object.keys(e.fields).map(function (k) { return k + ': ' + e.fields[k]; });
      if (parts.length) msg += ' — ' + parts.join('; ');
    }
    if (r.status === 429 && r.retryAfter) msg += ' (try again in ' + r.retryAfter + ' s)';
    return msg;
  }

  /* ---------------------------------------------------------------- */
  /* State                                                             */
  /* ---------------------------------------------------------------- */

  var state = {
    csrf: null,
    me: null,
    sites: [],
    site: storage.get(STORE_SITE) || '',
    sort: storage.get(STORE_SORT) === 'priority' ? 'priority' : 'oldest',
    view: 'queue',
    queue: 'pending',
    entries: [],          // [{id, status, item, el}] in screen order
    cursor: null,
    selected: -1,
    checked: new Set(),   // ids as strings
    loadSeq: 0,
    loadingMore: false,
    counts: {},
    poll: null,
    audit: { cursor: null, seq: 0 },
    insightSeq: 0,
    siteForm: { slug: null, original: null },
    // importJob is the last import started from this page, followed
    // until it ends.
    importJob: null
  };

  function isAdmin() { return !!(state.me && state.me.role === 'admin'); }
  function siteQuery(prefix) { return state.site ? prefix + 'site=' + encodeURIComponent(state.site) : ''; }

  /* ---------------------------------------------------------------- */
  /* API                                                               */
  /* ---------------------------------------------------------------- */

  function api(method, path, body, opts) {
    opts = opts || {};
    var headers = { Accept: 'application/json' };
    var init = { method: method, headers: headers, credentials: 'same-origin', cache: 'no-store' };
    if (body !== undefined && opts.raw) {
      // A file, sent as it is (an import's upload).
      headers['Content-Type'] = 'application/octet-stream';
      init.body = body;
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    if (method !== 'GET' && method !== 'HEAD' && state.csrf) headers['X-CSRF-Token'] = state.csrf;
    return fetch(path, init).then(function (resp) {
      var retry = resp.headers.get('Retry-After');
      var read = resp.status === 204 ? Promise.resolve('') : resp.text().catch(function () { return ''; });
      return read.then(function (t) {
        var data = null;
        if (t) { try { data = JSON.parse(t); } catch (e) { data = null; } }
        var r = {
          ok: resp.ok,
          status: resp.status,
          data: data,
          retryAfter: retry && /^\d+$/.test(retry) ? parseInt(retry, 10) : null,
          error: resp.ok ? null : (data && data.error) || { code: 'http_' + resp.status, message: 'Request failed (' + resp.status + ')' }
        };
        if (resp.status === 401 && !opts.quiet401) sessionExpired();
        return r;
      });
    }, function () {
      return { ok: false, status: 0, data: null, error: { code: 'network', message: 'The server could not be reached.' } };
    });
  }

  /* ---------------------------------------------------------------- */
  /* Toasts                                                            */
  /* ---------------------------------------------------------------- */

  function toast(msg, kind) {
    var box = $('#toasts');
    var t = el('div', { class: 'toast' + (kind ? ' toast-' + kind : '') }, msg);
    box.appendChild(t);
    while (box.children.length > 4) box.removeChild(box.firstChild);
    setTimeout(function () { t.classList.add('toast-out'); }, kind === 'error' || kind === 'warn' ? 7000 : 3500);
    setTimeout(function () { if (t.parentNode) t.parentNode.removeChild(t); }, kind === 'error' || kind === 'warn' ? 7500 : 4000);
  }

  /* ---------------------------------------------------------------- */
  /* Session                                                           */
  /* ---------------------------------------------------------------- */

  function showLogin(notice) {
    storage.set(STORE_SIGNED_IN, '');
    stopPolling();
    state.csrf = null;
    state.me = null;
    $$('dialog[open]').forEach(function (d) { d.close(); });
    $('#dashboard').hidden = true;
    $('#login').hidden = false;
    var n = $('#login-notice');
    n.textContent = notice || '';
    n.hidden = !notice;
    $('#login-error').hidden = true;
    $('#login-password').value = '';
    document.title = tr('Parley moderation — sign in');
    var email = $('#login-email');
    (email.value ? $('#login-password') : email).focus();
  }

  function sessionExpired() {
    if (!$('#dashboard').hidden) showLogin('Your session has ended. Please sign in again.');
  }

  function onLogin(ev) {
    ev.preventDefault();
    var email = $('#login-email').value.trim();
    var password = $('#login-password').value;
    var err = $('#login-error');
    err.hidden = true;
    $('#login-email').removeAttribute('aria-invalid');
    $('#login-password').removeAttribute('aria-invalid');
    if (!email || !password) {
      err.textContent = 'Enter your email and password.';
      err.hidden = false;
      var missing = !email ? $('#login-email') : $('#login-password');
      missing.setAttribute('aria-invalid', 'true');
      missing.focus();
      return;
    }
    var btn = $('#login-submit');
    btn.disabled = true;
    btn.textContent = 'Signing in…';
    api('POST', '/api/v1/mod/session', { email: email, password: password }, { quiet401: true }).then(function (r) {
      btn.disabled = false;
      btn.textContent = 'Sign in';
      if (r.ok && r.data && r.data.csrf_token) {
        $('#login-password').value = '';
        startSession(r.data);
        return;
      }
      if (r.status === 401) err.textContent = (r.error && r.error.message) || 'Wrong email or password.';
      else if (r.status === 429) err.textContent = 'Too many attempts.' + (r.retryAfter ? ' Try again in ' + r.retryAfter + ' s.' : ' Please wait a little.');
      else err.textContent = errorMessage(r);
      err.hidden = false;
      $('#login-password').setAttribute('aria-invalid', 'true');
      $('#login-password').focus();
    });
  }

  function startSession(data) {
    storage.set(STORE_SIGNED_IN, '1');
    state.csrf = data.csrf_token;
    state.me = data.moderator || {};
    $('#login').hidden = true;
    $('#dashboard').hidden = false;
    $('#whoami').textContent = (state.me.email || '') + (state.me.role ? ' · ' + state.me.role : '');
    $$('.admin-only').forEach(function (n) { n.hidden = !isAdmin(); });
    // Without email the server sends no notifications: say so, and offer
    // no digest.
    $('#email-off').hidden = data.email !== false;
    $('#digest-wrap').hidden = data.email !== true;
    if (data.email === true) {
      api('GET', '/api/v1/mod/digest').then(function (r) {
        if (r.ok && r.data) $('#digest').value = String(r.data.every_minutes);
      });
    }
    loadSites().then(function () {
      route();
      refreshCounts();
    });
    startPolling();
  }

  function logout() {
    api('DELETE', '/api/v1/mod/session', undefined, { quiet401: true }).then(function () {
      showLogin('You are signed out.');
    });
  }

  /* ---------------------------------------------------------------- */
  /* Sites filter                                                      */
  /* ---------------------------------------------------------------- */

  function normalizeSites(data) {
    return listFrom(data, ['sites', 'items']).map(function (s) {
      return typeof s === 'string' ? { slug: s } : s;
    }).filter(function (s) { return s && s.slug; });
  }

  function loadSites() {
    return api('GET', '/api/v1/mod/sites').then(function (r) {
      if (!r.ok) return;
      state.sites = normalizeSites(r.data);
      var sel = $('#site-filter');
      clear(sel);
      sel.appendChild(el('option', { value: '' }, 'All sites'));
      state.sites.forEach(function (s) { sel.appendChild(el('option', { value: s.slug }, s.slug)); });
      if (state.site && !state.sites.some(function (s) { return s.slug === state.site; })) state.site = '';
      sel.value = state.site;
      renderModeratorSiteChoices();
      if (state.view === 'sites') renderSitesList();
    });
  }

  function onSiteFilter() {
    state.site = $('#site-filter').value;
    storage.set(STORE_SITE, state.site);
    refreshCounts();
    if (state.view === 'queue') loadQueue(true);
    else if (state.view === 'audit') loadAudit(true);
    else if (state.view === 'bans') loadBans();
    else if (state.view === 'notices') loadNotices();
    else if (state.view === 'appeals') loadAppeals();
    else if (state.view === 'insights') route();
  }

  /* ---------------------------------------------------------------- */
  /* Counts and polling                                                */
  /* ---------------------------------------------------------------- */

  function refreshCounts() {
    return api('GET', '/api/v1/mod/queues' + siteQuery('?')).then(function (r) {
      if (!r.ok || !r.data) return;
      var q = r.data.queues || {};
      state.counts = q;
      COUNTED.forEach(function (name) {
        var tab = $('.queue-tab[data-queue="' + name + '"]');
        var n = Number(q[name]) || 0;
        var c = $('.count', tab);
        c.textContent = String(n);
        tab.classList.toggle('has-items', n > 0);
      });
      var pending = Number(q.pending) || 0;
      document.title = (pending ? '(' + pending + ') ' : '') + 'Parley moderation';
      noteNewItems();
    });
  }

  function noteNewItems() {
    var info = $('#queue-info');
    if (state.view !== 'queue' || COUNTED.indexOf(state.queue) < 0) { info.textContent = ''; return; }
    var n = Number(state.counts[state.queue]) || 0;
    var shown = state.entries.length;
    if (!state.cursor && n > shown) info.textContent = (n - shown) + ' new — press g to refresh';
    else info.textContent = n ? n + ' ' + tr('in queue') : '';
  }

  function startPolling() {
    stopPolling();
    state.poll = setInterval(function () {
      if (document.visibilityState !== 'hidden') refreshCounts();
    }, POLL_MS);
  }
  function stopPolling() {
    if (state.poll) clearInterval(state.poll);
    state.poll = null;
  }

  /* ---------------------------------------------------------------- */
  /* Routing: #/pending, #/audit, …                                    */
  /* ---------------------------------------------------------------- */

  function route() {
    if (!state.me) return;
    var name = (window.location.hash || '').replace(/^#\/?/, '');
    var card = /^insights\/article\/(\d+)$/.exec(name);
    if (card) { showInsights(card[1]); return; }
    if (QUEUES.indexOf(name) >= 0) { showQueue(name); return; }
    if (VIEWS.indexOf(name) >= 0 && (isAdmin() || (name !== 'sites' && name !== 'moderators'))) { showView(name); return; }
    showQueue('pending');
  }

  function go(name) {
    if (window.location.hash === '#/' + name) route();
    else window.location.hash = '#/' + name;
  }

  function setTabs(active) {
    $$('.tab').forEach(function (t) {
      var key = t.getAttribute('data-queue') || t.getAttribute('data-view');
      var on = key === active;
      t.classList.toggle('active', on);
      t.setAttribute('aria-selected', String(on));
    });
  }

  function showOnly(id) {
    $$('.view').forEach(function (v) { v.hidden = v.id !== id; });
  }

  function showQueue(name) {
    state.view = 'queue';
    state.queue = name;
    setTabs(name);
    showOnly('queue-view');
    $('#queue-title').textContent = QUEUE_TITLES[name];
    loadQueue(true);
  }

  function showView(name) {
    state.view = name;
    setTabs(name);
    showOnly(name + '-view');
    if (name === 'audit') loadAudit(true);
    else if (name === 'insights') showInsights(null);
    else if (name === 'bans') loadBans();
    else if (name === 'notices') loadNotices();
    else if (name === 'appeals') loadAppeals();
    else if (name === 'sites') { renderSitesList(); if (!state.siteForm.slug && state.sites.length) openSite(state.sites[0].slug); }
    else if (name === 'moderators') loadModerators();
  }

  /* ---------------------------------------------------------------- */
  /* Queue                                                             */
  /* ---------------------------------------------------------------- */

  function loadQueue(reset) {
    if (!reset && state.loadingMore) return Promise.resolve();
    var seq = ++state.loadSeq;
    state.loadingMore = !reset;
    var cards = $('#cards');
    var more = $('#load-more');
    if (reset) {
      state.cursor = null;
      cards.setAttribute('aria-busy', 'true');
    }
    more.disabled = true;
    var q = '?sort=' + state.sort + '&limit=' + PAGE + siteQuery('&');
    if (!reset && state.cursor) q += '&cursor=' + encodeURIComponent(state.cursor);
    return api('GET', '/api/v1/mod/queues/' + state.queue + q).then(function (r) {
      if (seq !== state.loadSeq) return;
      state.loadingMore = false;
      cards.removeAttribute('aria-busy');
      more.disabled = false;
      if (!r.ok || !r.data) {
        if (r.status !== 401) toast('Could not load the queue: ' + errorMessage(r), 'error');
        return;
      }
      var keepId = reset && state.selected >= 0 && state.entries[state.selected] ? state.entries[state.selected].id : null;
      var keepIndex = state.selected;
      if (reset) {
        clear(cards);
        state.entries = [];
        state.checked.clear();
      }
      var items = listFrom(r.data, ['items']);
      items.forEach(function (item) {
        if (!item || !item.comment) return;
        var entry = { id: String(item.comment.id), rawId: item.comment.id, status: item.comment.status, item: item, el: null };
        if (state.entries.some(function (e) { return e.id === entry.id; })) return;
        entry.el = renderCard(entry);
        state.entries.push(entry);
        cards.appendChild(entry.el);
      });
      state.cursor = r.data.next_cursor || null;
      more.hidden = !state.cursor;
      $('#queue-empty').hidden = state.entries.length > 0;
      if (reset) {
        var idx = -1;
        if (keepId) idx = indexOf(keepId);
        if (idx < 0 && state.entries.length) idx = Math.min(Math.max(keepIndex, 0), state.entries.length - 1);
        state.selected = -1;
        // The selected card takes the focus, so that the first j goes to
        // the second card and a acts on the card one is looking at; not
        // when the moderator is typing or in a dialog.
        var a = document.activeElement;
        var free = !a || a === document.body || !a.isConnected || !!a.closest('.card, .tab, #queue-view, #login');
        if (idx >= 0) select(idx, { focus: free && !document.querySelector('dialog[open]'), scroll: false });
      }
      updateBulk();
      noteNewItems();
    });
  }

  function indexOf(id) {
    for (var i = 0; i < state.entries.length; i++) if (state.entries[i].id === id) return i;
    return -1;
  }

  /* ---- highlighting ---- */

  var WORD = '[\\p{L}\\p{N}_]';

  function escapeRe(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); }

  // termsFrom reads "banned word: idiot", "suspect word: idiot*",
  // "banned words: a, b" from the reasons' details.
  function termsFrom(reasons) {
    var out = [];
    (reasons || []).forEach(function (r) {
      // Word rules name the words as the reader wrote them; the models
      // the words that weighed most (linked domains are not in the text
      // as such).
      if (r && Array.isArray(r.matched) && /words$|^classifier$|^reject_model$/.test(r.rule || '')) {
        var k = r.verdict === 'reject' ? 'banned' : /words$/.test(r.rule) ? 'suspect' : 'model';
        r.matched.forEach(function (w) {
          w = String(w || '');
          if (w && w.indexOf('domain:') !== 0) out.push({ word: w, kind: k });
        });
        return;
      }
      var d = String(r && r.detail || '');
      var m = /^\s*([\w -]*?words?)\s*:\s*(.+)$/i.exec(d);
      if (!m) return;
      var kind = /ban|block/i.test(m[1]) || r.verdict === 'reject' ? 'banned' : 'suspect';
      m[2].split(/\s*,\s*/).forEach(function (w) {
        w = w.trim().replace(/^["'“”‘’«»]+|["'“”‘’«»]+$/g, '');
        if (w && w.replace(/\*/g, '')) out.push({ word: w, kind: kind });
      });
    });
    return out;
  }

  function termSource(w) {
    return w.split('*').map(escapeRe).join(WORD + '*');
  }

  // matchRanges finds each term case-insensitively: as a whole word when it
  // occurs as one, else anywhere (the server may match inside words).
  function matchRanges(body, terms) {
    var ranges = [];
    terms.forEach(function (t) {
      var src = termSource(t.word);
      var found = [];
      var res;
      try {
        res = [new RegExp('(?<!' + WORD + ')(?:' + src + ')(?!' + WORD + ')', 'giu'), new RegExp(src, 'giu')];
      } catch (e) {
        res = [new RegExp(escapeRe(t.word.replace(/\*/g, '')), 'gi')];
      }
      for (var k = 0; k < res.length && !found.length; k++) {
        var re = res[k];
        var m;
        while ((m = re.exec(body)) !== null) {
          if (!m[0].length) { re.lastIndex++; continue; }
          found.push([m.index, m.index + m[0].length, t.kind]);
        }
      }
      ranges = ranges.concat(found);
    });
    ranges.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
    var merged = [];
    ranges.forEach(function (r) {
      var last = merged[merged.length - 1];
      if (last && r[0] < last[1]) return;
      merged.push(r);
    });
    return merged;
  }

  function highlighted(body, terms) {
    var frag = document.createDocumentFragment();
    var at = 0;
    matchRanges(body, terms).forEach(function (r) {
      if (r[0] > at) frag.appendChild(document.createTextNode(body.slice(at, r[0])));
      frag.appendChild(el('mark', { class: 'hit hit-' + r[2] }, body.slice(r[0], r[1])));
      at = r[1];
    });
    if (at < body.length) frag.appendChild(document.createTextNode(body.slice(at)));
    return frag;
  }

  /* ---- cards ---- */

  function renderCard(entry) {
    var it = entry.item;
    var c = it.comment;
    var a = it.article || {};
    var reasons = Array.isArray(it.reasons) ? it.reasons : [];
    var reports = Array.isArray(it.reports) ? it.reports : [];
    var id = entry.id;

    var check = el('input', { type: 'checkbox', class: 'card-check', 'aria-label': 'Select comment #' + id });
    check.addEventListener('change', function () {
      if (check.checked) state.checked.add(id); else state.checked.delete(id);
      card.classList.toggle('checked', check.checked);
      updateBulk();
    });

    var meta = el('div', { class: 'card-meta' },
      el('strong', { class: 'author', id: 'author-' + id }, c.author || '(no name)'));
    if (c.email_hash) meta.appendChild(el('span', { class: 'hash', title: 'Email hash ' + c.email_hash }, el('span', { class: 'hash-kind' }, 'email'), ' ', short(c.email_hash)));
    if (c.ip_hash) meta.appendChild(el('span', { class: 'hash', title: 'IP hash ' + c.ip_hash }, el('span', { class: 'hash-kind' }, 'ip'), ' ', short(c.ip_hash)));
    meta.appendChild(el('span', { class: 'sep', 'aria-hidden': 'true' }, '·'));
    var where = (a.site || '') + '/' + (a.key || '');
    var url = safeURL(a.url);
    meta.appendChild(url
      ? el('a', { class: 'article', href: url, target: '_blank', rel: 'noopener noreferrer', title: where }, a.title || where)
      : el('span', { class: 'article', title: a.title || '' }, a.title ? a.title : where));
    if (url || a.title) meta.appendChild(el('span', { class: 'article-key mono' }, where));
    if (a.id) meta.appendChild(el('a', { class: 'insight-link', href: '#/insights/article/' + a.id, title: 'Insights for this article' }, 'Insights'));
    meta.appendChild(el('span', { class: 'sep', 'aria-hidden': 'true' }, '·'));
    meta.appendChild(timeEl(c.created_at));
    if (c.edited_at) meta.appendChild(el('span', { class: 'muted', title: 'Edited ' + c.edited_at }, 'edited'));

    var side = el('div', { class: 'card-side' },
      el('span', { class: 'badge badge-' + (c.status || 'unknown') }, c.status || '?'),
      el('span', { class: 'mono muted', title: 'Comment id and version' }, '#' + id + (c.version !== undefined ? ' v' + c.version : '')));
    if (c.parent_id !== null && c.parent_id !== undefined) side.appendChild(el('span', { class: 'muted' }, '↳ reply to #' + c.parent_id));

    var bodyText = String(c.body || '');
    var body = el('div', { class: 'card-body' });
    body.appendChild(highlighted(bodyText, termsFrom(reasons)));
    if (!bodyText) body.appendChild(el('span', { class: 'muted' }, '(empty)'));

    var chips = null;
    if (reasons.length) {
      chips = el('ul', { class: 'chips', 'aria-label': 'Reasons' }, reasons.map(function (r) {
        var v = r.verdict || '';
        return el('li', { class: 'chip chip-' + (v || 'info'), title: (r.rule || '') + (v ? ' → ' + v : '') }, r.detail || r.rule || '?');
      }));
    }

    var reportList = null;
    if (reports.length) {
      reportList = el('div', { class: 'reports' },
        el('div', { class: 'reports-title' }, reports.length === 1 ? '1 report' : reports.length + ' reports'),
        el('ul', null, reports.map(function (r) {
          return el('li', null, el('span', { class: 'report-reason' }, (r.reason || 'other').replace(/_/g, ' ')),
            r.note ? el('span', { class: 'report-note' }, ' “' + r.note + '”') : null, ' ', timeEl(r.created_at, 'time muted'));
        })));
    }

    var actions = el('div', { class: 'card-actions' });
    function action(name, label, key, cls, disabled, title) {
      actions.appendChild(el('button', {
        type: 'button', class: 'btn btn-small ' + cls, 'data-action': name, disabled: disabled, title: title || null,
        onclick: function () { runAction(entry, name); }
      }, label, key ? el('kbd', { 'aria-hidden': 'true' }, key) : null));
    }
    var st = c.status;
    var reported = state.queue === 'reported';
    action('approve', reported ? 'Keep' : 'Approve', 'a', 'btn-approve', st === 'approved' && !reported, reported ? 'Keep it published and clear the reports' : null);
    action('reject', 'Reject', 'r', 'btn-reject', st === 'rejected');
    action('spam', 'Spam', 's', 'btn-spam', st === 'spam');
    if (st === 'rejected' || st === 'spam') action('restore', 'Restore', null, 'btn-ghost', false, 'Undo the last decision');
    action('ban', 'Ban', 'b', 'btn-ban', false);

    var card = el('article', { class: 'card status-' + (st || 'unknown'), 'data-id': id, 'data-status': st || '', tabindex: '-1', 'aria-labelledby': 'author-' + id },
      el('div', { class: 'card-check-col' }, check),
      el('div', { class: 'card-main' }, el('div', { class: 'card-head' }, meta, side), body, chips, reportList),
      actions);
    card.addEventListener('click', function (ev) {
      if (ev.target.closest('button, a, input, label, select')) return;
      var i = state.entries.indexOf(entry);
      if (i >= 0) select(i, { focus: true, scroll: false });
    });
    card.addEventListener('focusin', function () {
      var i = state.entries.indexOf(entry);
      if (i >= 0 && i !== state.selected) select(i, { focus: false, scroll: false });
    });
    return card;
  }

  function select(i, opts) {
    opts = opts || {};
    if (!state.entries.length) { state.selected = -1; return; }
    i = Math.max(0, Math.min(i, state.entries.length - 1));
    var prev = state.entries[state.selected];
    if (prev && prev.el) prev.el.classList.remove('selected');
    state.selected = i;
    var cur = state.entries[i];
    cur.el.classList.add('selected');
    if (opts.focus !== false) cur.el.focus({ preventScroll: true });
    if (opts.scroll !== false) cur.el.scrollIntoView({ block: 'nearest' });
  }

  function current() { return state.entries[state.selected] || null; }

  function removeEntry(entry) {
    var i = state.entries.indexOf(entry);
    if (i < 0) return;
    var hadFocus = entry.el.contains(document.activeElement);
    entry.el.parentNode && entry.el.parentNode.removeChild(entry.el);
    state.entries.splice(i, 1);
    state.checked.delete(entry.id);
    if (state.selected > i) state.selected -= 1;
    else if (state.selected === i) {
      state.selected = -1;
      if (state.entries.length) select(Math.min(i, state.entries.length - 1), { focus: hadFocus, scroll: hadFocus });
    }
    $('#queue-empty').hidden = state.entries.length > 0 || !!state.cursor;
    if (!state.entries.length && state.cursor) loadQueue(false);
    updateBulk();
  }

  function setBusy(entry, busy) {
    entry.el.classList.toggle('busy', busy);
    $$('.card-actions button', entry.el).forEach(function (b) {
      if (busy) { b.setAttribute('data-was-disabled', b.disabled ? '1' : ''); b.disabled = true; }
      else { b.disabled = b.getAttribute('data-was-disabled') === '1'; b.removeAttribute('data-was-disabled'); }
    });
  }

  // leaves tells whether a comment that is now `status` drops out of the
  // queue on screen.
  function leaves(status) {
    if (state.queue === 'reported') return true;
    return status !== state.queue;
  }

  function runAction(entry, name) {
    if (!entry || entry.el.classList.contains('busy')) return;
    if (name === 'ban') { openBan(entry); return; }
    if (name === 'reject') {
      askReject('Reject comment #' + entry.id, siteOf(entry)).then(function (res) {
        if (res) decide(entry, 'reject', res.reason, res.ground);
      });
      return;
    }
    decide(entry, name);
  }

  function decide(entry, action, reason, ground) {
    var body = { action: action };
    if (reason) body.reason = reason;
    if (ground) body.ground = ground;
    if (entry.status) body.expected_status = entry.status;
    setBusy(entry, true);
    return api('POST', '/api/v1/mod/comments/' + encodeURIComponent(entry.id) + '/decision', body).then(function (r) {
      if (r.ok) {
        var c = r.data && r.data.comment;
        var status = c && c.status || ACTION_STATUS[action] || entry.status;
        toast(ACTION_DONE[action] + ' #' + entry.id, 'ok');
        if (leaves(status)) removeEntry(entry);
        else {
          entry.status = status;
          if (c) entry.item.comment = Object.assign({}, entry.item.comment, c);
          var wasSelected = state.entries[state.selected] === entry;
          var fresh = renderCard(entry);
          entry.el.parentNode.replaceChild(fresh, entry.el);
          entry.el = fresh;
          if (wasSelected) fresh.classList.add('selected');
        }
        refreshCounts();
        return;
      }
      setBusy(entry, false);
      if (r.status === 409) {
        toast(CONFLICT_TEXT, 'warn');
        refreshCounts();
        loadQueue(true);
        return;
      }
      if (r.status !== 401) toast(errorMessage(r), 'error');
    });
  }

  /* ---- bulk ---- */

  function updateBulk() {
    // Forget checks of cards no longer shown.
    var shown = new Set(state.entries.map(function (e) { return e.id; }));
    state.checked.forEach(function (id) { if (!shown.has(id)) state.checked.delete(id); });
    var n = state.checked.size;
    $('#bulk-bar').hidden = n === 0;
    $('#bulk-count').textContent = n + ' selected';
    var all = $('#select-all');
    all.checked = n > 0 && n === state.entries.length;
    all.indeterminate = n > 0 && n < state.entries.length;
    all.disabled = state.entries.length === 0;
  }

  function setChecked(entry, on) {
    var box = $('.card-check', entry.el);
    box.checked = on;
    entry.el.classList.toggle('checked', on);
    if (on) state.checked.add(entry.id); else state.checked.delete(entry.id);
  }

  function bulk(action) {
    if (action === 'clear') {
      state.entries.forEach(function (e) { setChecked(e, false); });
      updateBulk();
      return;
    }
    var targets = state.entries.filter(function (e) { return state.checked.has(e.id); });
    if (!targets.length) return;
    var sites = new Set(targets.map(siteOf));
    var ask = action === 'reject' ? askReject('Reject ' + targets.length + ' comment' + (targets.length === 1 ? '' : 's'), sites.size === 1 ? siteOf(targets[0]) : '') : Promise.resolve({});
    ask.then(function (res) {
      if (!res) return;
      var body = { ids: targets.map(function (e) { return e.rawId; }), action: action };
      if (res.reason) body.reason = res.reason;
      if (res.ground) body.ground = res.ground;
      var statuses = new Set(targets.map(function (e) { return e.status; }));
      if (statuses.size === 1) body.expected_status = targets[0].status;
      targets.forEach(function (e) { setBusy(e, true); });
      api('POST', '/api/v1/mod/decisions', body).then(function (r) {
        targets.forEach(function (e) { setBusy(e, false); });
        if (!r.ok) {
          if (r.status === 409) { toast(CONFLICT_TEXT, 'warn'); loadQueue(true); refreshCounts(); return; }
          if (r.status !== 401) toast(errorMessage(r), 'error');
          return;
        }
        var results = listFrom(r.data, ['results']);
        var byId = new Map(results.map(function (x) { return [String(x.id), x]; }));
        var done = 0;
        var conflicts = 0;
        var failed = 0;
        targets.forEach(function (e) {
          var res2 = byId.get(e.id);
          if (!res2) return;
          if (res2.ok) {
            done++;
            if (leaves(res2.status || ACTION_STATUS[action] || e.status)) removeEntry(e);
          } else if (/conflict/i.test(text(res2.error))) conflicts++;
          else failed++;
        });
        if (done) toast(ACTION_DONE[action] + ' ' + done + ' comment' + (done === 1 ? '' : 's'), 'ok');
        if (conflicts) toast(CONFLICT_TEXT + ' (' + conflicts + ')', 'warn');
        if (failed) toast(failed + ' could not be changed', 'error');
        if (conflicts || failed) loadQueue(true);
        refreshCounts();
        updateBulk();
      });
    });
  }

  /* ---------------------------------------------------------------- */
  /* Dialogs                                                           */
  /* ---------------------------------------------------------------- */

  function openDialog(dlg) {
    return new Promise(function (resolve) {
      dlg.returnValue = '';
      function done() {
        dlg.removeEventListener('close', done);
        resolve(dlg.returnValue);
      }
      dlg.addEventListener('close', done);
      dlg.showModal();
    });
  }

  function anyDialogOpen() { return $$('dialog[open]').length > 0; }

  // askReject asks for a reason and, on a site under the EU DSA, the
  // ground of its terms the statement of reasons cites.
  function askReject(title, slug) {
    $('#reject-title').textContent = title;
    var input = $('#reject-reason');
    input.value = '';
    var site = state.sites.filter(function (s) { return s.slug === slug; })[0];
    var grounds = site && site.eu_dsa ? site.terms_grounds || [] : [];
    var select = $('#reject-ground');
    clear(select);
    grounds.forEach(function (g) { select.appendChild(el('option', { value: g }, g)); });
    $('#reject-ground-row').hidden = grounds.length === 0;
    var p = openDialog($('#reject-dialog'));
    input.focus();
    return p.then(function (v) {
      restoreFocus();
      return v === 'ok' ? { reason: input.value.trim(), ground: grounds.length ? select.value : '' } : null;
    });
  }

  function siteOf(entry) { return entry.item && entry.item.article ? entry.item.article.site : ''; }

  function confirmDialog(message, okLabel) {
    $('#confirm-text').textContent = message;
    $('#confirm-ok').textContent = okLabel || 'Confirm';
    var p = openDialog($('#confirm-dialog'));
    $('#confirm-ok').focus();
    return p.then(function (v) { restoreFocus(); return v === 'ok'; });
  }

  // After a dialog the selected card gets the focus back, so j/k go on.
  function restoreFocus() {
    var cur = state.view === 'queue' ? current() : null;
    if (cur && cur.el.isConnected) cur.el.focus({ preventScroll: true });
  }

  function openHelp() {
    var dlg = $('#help');
    if (dlg.open) return;
    openDialog(dlg).then(restoreFocus);
  }

  /* ---- ban ---- */

  var banTarget = null;

  function openBan(entry) {
    banTarget = entry;
    var c = entry.item.comment;
    var form = $('#ban-form');
    form.reset();
    $('#ban-subject').textContent = 'Comment #' + entry.id + ' by ' + (c.author || '(no name)');
    $('#ban-email-hint').textContent = c.email_hash ? short(c.email_hash) : '(no email given)';
    $('#ban-ip-hint').textContent = c.ip_hash ? short(c.ip_hash) : '';
    var emailRadio = $('input[name=kind][value=email]', form);
    emailRadio.disabled = !c.email_hash;
    var first = emailRadio.disabled ? $('input[name=kind][value=ip]', form) : emailRadio;
    first.checked = true;
    $('#ban-expiry-at').hidden = true;
    $('#ban-error').hidden = true;
    var p = openDialog($('#ban-dialog'));
    $('#ban-reason').focus();
    p.then(function () { banTarget = null; restoreFocus(); });
  }

  function onBanSubmit(ev) {
    var submitter = ev.submitter;
    if (submitter && submitter.value === 'cancel') return; // the dialog closes itself
    ev.preventDefault();
    var entry = banTarget;
    if (!entry) { $('#ban-dialog').close(); return; }
    var form = $('#ban-form');
    var err = $('#ban-error');
    err.hidden = true;
    var reason = $('#ban-reason').value.trim();
    if (!reason) {
      err.textContent = 'Give a reason: it is kept with the ban and in the audit log.';
      err.hidden = false;
      $('#ban-reason').focus();
      return;
    }
    var kind = (form.querySelector('input[name=kind]:checked') || {}).value || 'ip';
    var body = { comment_id: entry.rawId, kind: kind, reason: reason };
    if ($('#ban-shadow').checked) body.shadow = true;
    if ($('#ban-reject-pending').checked) body.reject_pending = true;
    var exp = $('#ban-expiry').value;
    if (exp === 'custom') {
      var at = $('#ban-expiry-at').value;
      var d = at ? new Date(at) : null;
      if (!d || isNaN(d.getTime()) || d.getTime() <= Date.now()) {
        err.textContent = 'Pick an expiry in the future.';
        err.hidden = false;
        $('#ban-expiry-at').focus();
        return;
      }
      body.expires_at = d.toISOString();
    } else if (exp) {
      body.expires_at = new Date(Date.now() + parseInt(exp, 10) * 1000).toISOString();
    }
    var btn = $('#ban-confirm');
    btn.disabled = true;
    api('POST', '/api/v1/mod/bans', body).then(function (r) {
      btn.disabled = false;
      if (r.ok) {
        $('#ban-dialog').close('ok');
        toast('Banned by ' + kind + (body.shadow ? ' (shadow)' : '') + ': ' + (entry.item.comment.author || '#' + entry.id), 'ok');
        refreshCounts();
        if (body.reject_pending && state.view === 'queue') loadQueue(true);
        return;
      }
      err.textContent = errorMessage(r);
      err.hidden = false;
    });
  }

  /* ---------------------------------------------------------------- */
  /* Keyboard                                                          */
  /* ---------------------------------------------------------------- */

  var NOT_TYPING = ['checkbox', 'radio', 'button', 'submit', 'reset', 'range', 'color', 'file', 'image'];
  function isTyping(t) {
    if (!t || t.nodeType !== 1) return false;
    if (t.isContentEditable) return true;
    var tag = t.tagName;
    if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
    if (tag === 'INPUT') return NOT_TYPING.indexOf((t.type || 'text').toLowerCase()) < 0;
    return false;
  }

  function onKey(ev) {
    if ($('#dashboard').hidden || ev.defaultPrevented) return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (anyDialogOpen()) return; // <dialog> closes itself on Esc
    if (isTyping(ev.target)) return;
    var k = ev.key;
    if (k === '?') { ev.preventDefault(); openHelp(); return; }
    if (/^[1-5]$/.test(k)) { ev.preventDefault(); go(QUEUES[Number(k) - 1]); return; }
    if (state.view !== 'queue') return;
    var cur = current();
    switch (k) {
      case 'j':
        ev.preventDefault();
        if (state.entries.length) select(state.selected < 0 ? 0 : state.selected + 1);
        // Reaching the last card fetches the next page, so j never stops short.
        if (state.cursor && state.selected >= state.entries.length - 1) loadQueue(false);
        return;
      case 'k':
        ev.preventDefault();
        if (state.entries.length) select(state.selected < 0 ? 0 : state.selected - 1);
        return;
      case 'a': ev.preventDefault(); if (cur) runAction(cur, 'approve'); return;
      case 'r': ev.preventDefault(); if (cur) runAction(cur, 'reject'); return;
      case 's': ev.preventDefault(); if (cur) runAction(cur, 'spam'); return;
      case 'b': ev.preventDefault(); if (cur) runAction(cur, 'ban'); return;
      case 'x':
        ev.preventDefault();
        if (cur) { setChecked(cur, !state.checked.has(cur.id)); updateBulk(); }
        return;
      case 'A': ev.preventDefault(); bulk('approve'); return;
      case 'R': ev.preventDefault(); bulk('reject'); return;
      case 'S': ev.preventDefault(); bulk('spam'); return;
      case 'g': ev.preventDefault(); refreshCounts(); loadQueue(true); return;
      default:
    }
  }

  /* ---------------------------------------------------------------- */
  /* Insights: rankings, the desk, the rules, an article's card        */
  /* ---------------------------------------------------------------- */

  // Charts are SVG drawn here, no library: each is a focusable <figure>
  // with a <title> in the SVG and the same figures as a <table>.
  var SVGNS = 'http://www.w3.org/2000/svg';
  var chartSeq = 0;

  function svgEl(tag, attrs, txt) {
    var n = document.createElementNS(SVGNS, tag);
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, String(attrs[k])); });
    if (txt !== undefined) n.textContent = txt;
    return n;
  }

  // chart draws series ([{name, values}]) as grouped bars over labels.
  function chart(title, labels, series, describe) {
    var id = 'chart-' + (++chartSeq);
    var W = 720, H = 170, L = 36, B = 20, T = 8, R = 6;
    var max = 0;
    series.forEach(function (s) { s.values.forEach(function (v) { if (v > max) max = v; }); });
    var total = series.map(function (s) {
      return tr(s.name) + ' ' + s.values.reduce(function (a, b) { return a + b; }, 0);
    }).join(', ');
    var svg = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-labelledby': id + '-t', focusable: 'false' });
    svg.appendChild(svgEl('title', { id: id + '-t' }, tr(title) + ' (' + labels.length + ' ' + tr(describe || 'points') + '; ' + tr('totals') + ': ' + total + ')'));
    var plotW = W - L - R, plotH = H - T - B;
    svg.appendChild(svgEl('line', { class: 'axis', x1: L, y1: T + plotH, x2: W - R, y2: T + plotH }));
    svg.appendChild(svgEl('line', { class: 'axis', x1: L, y1: T, x2: L, y2: T + plotH }));
    svg.appendChild(svgEl('text', { x: L - 4, y: T + 8, 'text-anchor': 'end' }, String(max)));
    svg.appendChild(svgEl('text', { x: L - 4, y: T + plotH, 'text-anchor': 'end' }, '0'));
    var slot = labels.length ? plotW / labels.length : plotW;
    var bw = Math.max(1, (slot * 0.8) / Math.max(1, series.length));
    var every = Math.max(1, Math.ceil(labels.length / 8));
    labels.forEach(function (lab, i) {
      series.forEach(function (s, j) {
        var v = s.values[i] || 0;
        var h = max ? (v / max) * plotH : 0;
        if (h > 0) svg.appendChild(svgEl('rect', { class: 's' + j, x: (L + i * slot + slot * 0.1 + j * bw).toFixed(1), y: (T + plotH - h).toFixed(1), width: bw.toFixed(1), height: h.toFixed(1) }));
      });
      if (i % every === 0) svg.appendChild(svgEl('text', { x: (L + i * slot + slot / 2).toFixed(1), y: H - 6, 'text-anchor': 'middle' }, lab));
    });
    var legend = el('div', { class: 'legend', 'aria-hidden': 'true' }, series.map(function (s, j) {
      return el('span', null, el('i', { class: 's' + j }), s.name);
    }));
    var table = el('table', { class: 'grid' },
      el('caption', { class: 'sr-only' }, title),
      el('thead', null, el('tr', null, el('th', { scope: 'col' }, ''), series.map(function (s) { return el('th', { scope: 'col', class: 'num' }, s.name); }))),
      el('tbody', null, labels.map(function (lab, i) {
        return el('tr', null, el('th', { scope: 'row' }, lab), series.map(function (s) { return el('td', { class: 'num' }, String(s.values[i] || 0)); }));
      })));
    return el('figure', { class: 'chart', tabindex: '0', 'aria-labelledby': id + '-c' },
      el('figcaption', { id: id + '-c' }, title), legend, svg,
      el('details', null, el('summary', null, 'Table of the chart'), el('div', { class: 'table-wrap' }, table)));
  }

  function isoDay(d) { return d.toISOString().slice(0, 10); }

  function insightPeriod() {
    var days = parseInt($('#insights-days').value, 10) || 7;
    var to = new Date();
    var from = new Date(to.getTime() - (days - 1) * 86400000);
    return 'from=' + isoDay(from) + '&to=' + isoDay(to);
  }

  function pct(x) { return x === null || x === undefined ? '—' : (x * 100).toFixed(0) + ' %'; }
  function bound(x) { return x === null || x === undefined ? '—' : x.toFixed(2); }

  function waitText(s) {
    if (s === null || s === undefined) return '—';
    if (s < 0) return tr('over a week');
    if (s < 3600) return '≤ ' + Math.round(s / 60) + ' min';
    if (s < 172800) return '≤ ' + Math.round(s / 3600) + ' h';
    return '≤ ' + Math.round(s / 86400) + ' d';
  }

  function cardLink(a) {
    return el('a', { href: '#/insights/article/' + a.id, class: 'insight-link', title: (a.site || '') + '/' + (a.key || '') }, a.title || a.key || ('#' + a.id));
  }

  function rankTable(items, cols) {
    if (!items.length) return el('p', { class: 'empty' }, 'No activity in this period.');
    return el('div', { class: 'table-wrap' }, el('table', { class: 'grid rank-table' },
      el('thead', null, el('tr', null, el('th', { scope: 'col' }, 'Article'), cols.map(function (c) { return el('th', { scope: 'col', class: 'num' }, c[0]); }))),
      el('tbody', null, items.map(function (a) {
        return el('tr', null, el('td', null, cardLink(a)), cols.map(function (c) { return el('td', { class: 'num' }, c[1](a)); }));
      }))));
  }

  function figure(label, value) { return el('span', null, el('b', null, value), label); }

  function showInsights(articleId) {
    state.view = 'insights';
    setTabs('insights');
    showOnly('insights-view');
    $('#insights-overview').hidden = !!articleId;
    $('#insights-article').hidden = !articleId;
    if (articleId) loadInsightArticle(articleId); else loadInsights();
  }

  function loadInsights() {
    var seq = ++state.insightSeq;
    var q = insightPeriod() + siteQuery('&');
    $('#insights-csv').setAttribute('href', '/api/v1/mod/insights/articles?order=liked&format=csv&' + q);
    api('GET', '/api/v1/mod/insights?' + q).then(function (r) {
      if (seq !== state.insightSeq) return;
      if (!r.ok) { if (r.status !== 401) toast('Could not load the insights: ' + errorMessage(r), 'error'); return; }
      var d = r.data;
      $('#insights-period').textContent = d.period.from + ' – ' + d.period.to + ' · ' + d.positive + ' / ' + d.negative;
      var share = function (a) { return pct(a.share); };
      var lb = function (a) { return bound(a.wilson_lower_bound); };
      clear($('#insights-liked'));
      $('#insights-liked').appendChild(rankTable(d.liked, [[d.positive, function (a) { return String(a.for); }], ['Votes', function (a) { return String(a.for + a.against); }], ['Share', share], ['Lower bound', lb]]));
      clear($('#insights-disliked'));
      $('#insights-disliked').appendChild(rankTable(d.disliked, [[d.negative, function (a) { return String(a.against); }], ['Votes', function (a) { return String(a.for + a.against); }], ['Share', share], ['Lower bound', lb]]));
      clear($('#insights-discussed'));
      $('#insights-discussed').appendChild(rankTable(d.discussed, [['Comments', function (a) { return String(a.comments.posted); }], ['Held', function (a) { return String(a.comments.held); }], ['Reports', function (a) { return String(a.reports); }]]));

      var desk = d.desk;
      var sum = $('#insights-desk-summary');
      clear(sum);
      append(sum, [figure('Median time to decision', waitText(desk.median_wait_seconds)), figure('90th percentile', waitText(desk.p90_wait_seconds)),
        figure('Pending now', String(desk.backlog.pending || 0)), figure('Reported now', String(desk.backlog.reported || 0)), figure('Spam now', String(desk.backlog.spam || 0))]);
      var days = desk.days.map(function (x) { return x.date.slice(5); });
      var box = $('#insights-desk');
      clear(box);
      box.appendChild(chart('Held and decided per day', days, [
        { name: 'Held', values: desk.days.map(function (x) { return x.held; }) },
        { name: 'Decided', values: desk.days.map(function (x) { return x.decided; }) }], 'days'));
      box.appendChild(chart('Backlog at the end of the day', days, [
        { name: 'Pending', values: desk.days.map(function (x) { return x.backlog.pending || 0; }) },
        { name: 'Reported', values: desk.days.map(function (x) { return x.backlog.reported || 0; }) },
        { name: 'Spam', values: desk.days.map(function (x) { return x.backlog.spam || 0; }) }], 'days'));
      box.appendChild(el('div', { class: 'table-wrap' }, el('table', { class: 'grid' },
        el('caption', { class: 'sr-only' }, 'Decisions by moderator'),
        el('thead', null, el('tr', null, el('th', { scope: 'col' }, 'Moderator'), el('th', { scope: 'col' }, 'Action'), el('th', { scope: 'col', class: 'num' }, 'Decisions'))),
        el('tbody', null, desk.moderators.map(function (m) {
          return el('tr', null, el('td', null, m.moderator), el('td', null, m.action), el('td', { class: 'num' }, String(m.decisions)));
        })))));

      var rules = $('#insights-rules');
      clear(rules);
      if (!d.rules.length) { rules.appendChild(el('p', { class: 'empty' }, 'No rule held a comment in this period.')); return; }
      rules.appendChild(chart('How moderators decided on the comments each rule held', d.rules.map(function (x) { return x.rule; }), [
        { name: 'Approved', values: d.rules.map(function (x) { return x.approved; }) },
        { name: 'Rejected', values: d.rules.map(function (x) { return x.rejected; }) },
        { name: 'Spam', values: d.rules.map(function (x) { return x.spam; }) }], 'rules'));
      rules.appendChild(el('div', { class: 'table-wrap' }, el('table', { class: 'grid rank-table' },
        el('caption', { class: 'sr-only' }, 'Rules'),
        el('thead', null, el('tr', null, ['Rule', 'Held', 'Approved', 'Rejected', 'Spam', 'Precision'].map(function (h, i) { return el('th', { scope: 'col', class: i ? 'num' : null }, h); }))),
        el('tbody', null, d.rules.map(function (x) {
          return el('tr', null, el('td', { class: 'mono' }, x.rule), [x.held, x.approved, x.rejected, x.spam].map(function (v) { return el('td', { class: 'num' }, String(v)); }), el('td', { class: 'num' }, pct(x.precision)));
        })))));
    });
  }

  function loadInsightArticle(id) {
    var seq = ++state.insightSeq;
    var q = insightPeriod();
    $('#insights-csv').setAttribute('href', '/api/v1/mod/insights/articles/' + encodeURIComponent(id) + '?format=csv&' + q);
    api('GET', '/api/v1/mod/insights/articles/' + encodeURIComponent(id) + '?' + q).then(function (r) {
      if (seq !== state.insightSeq) return;
      if (!r.ok) { if (r.status !== 401) toast('Could not load the article: ' + errorMessage(r), 'error'); return; }
      var d = r.data, a = d.article;
      $('#insight-article-title').textContent = a.title || (a.site + '/' + a.key);
      $('#insights-period').textContent = d.period.from + ' – ' + d.period.to;
      var figs = $('#insight-article-figures');
      clear(figs);
      append(figs, Object.keys(d.counts).sort().map(function (k) { return figure(tr('now') + ': ' + k, String(d.counts[k])); }));
      append(figs, [figure(tr('Share') + ' ' + d.positive, pct(a.share)), figure('Comments', String(a.comments.posted)),
        figure('Held', String(a.comments.held)), figure('Rejected', String(a.comments.rejected + a.comments.spam)), figure('Reports', String(a.reports))]);
      var labels = d.points.map(function (p) { return d.step === 'hour' ? p.at.slice(5, 13).replace('T', ' ') + 'h' : p.at.slice(5, 10); });
      var box = $('#insight-article-charts');
      clear(box);
      box.appendChild(chart('Reactions over time', labels, d.reactions.map(function (x) {
        return { name: x, values: d.points.map(function (p) { return p.reactions[x] ? p.reactions[x].added - p.reactions[x].retracted : 0; }) };
      }), d.step === 'hour' ? 'hours' : 'days'));
      box.appendChild(chart('Comments over time', labels, [
        { name: 'Posted', values: d.points.map(function (p) { return p.comments.posted; }) },
        { name: 'Published', values: d.points.map(function (p) { return p.comments.published; }) },
        { name: 'Held', values: d.points.map(function (p) { return p.comments.held; }) },
        { name: 'Rejected or spam', values: d.points.map(function (p) { return p.comments.rejected + p.comments.spam; }) },
        { name: 'Reports', values: d.points.map(function (p) { return p.reports; }) }], d.step === 'hour' ? 'hours' : 'days'));
      $('#insight-article-title').focus();
    });
  }

  /* ---------------------------------------------------------------- */
  /* Audit log                                                         */
  /* ---------------------------------------------------------------- */

  function loadAudit(reset) {
    var seq = ++state.audit.seq;
    var tbody = $('#audit-table tbody');
    var more = $('#audit-more');
    if (reset) state.audit.cursor = null;
    more.disabled = true;
    var q = '?limit=' + PAGE + siteQuery('&');
    if (!reset && state.audit.cursor) q += '&cursor=' + encodeURIComponent(state.audit.cursor);
    api('GET', '/api/v1/mod/audit' + q).then(function (r) {
      if (seq !== state.audit.seq) return;
      more.disabled = false;
      if (!r.ok) { if (r.status !== 401) toast('Could not load the audit log: ' + errorMessage(r), 'error'); return; }
      if (reset) clear(tbody);
      listFrom(r.data, ['items']).forEach(function (a) {
        var change = a.before || a.after ? [el('span', { class: 'badge badge-' + text(a.before) }, text(a.before) || '—'), ' → ', el('span', { class: 'badge badge-' + text(a.after) }, text(a.after) || '—')] : '';
        tbody.appendChild(el('tr', null,
          el('td', { class: 'nowrap' }, timeEl(a.at)),
          el('td', null, text(a.moderator)),
          el('td', null, el('span', { class: 'action-name' }, text(a.action))),
          el('td', { class: 'mono' }, text(a.object)),
          el('td', null, text(a.site)),
          el('td', { class: 'nowrap' }, change),
          el('td', { class: 'detail' }, text(a.detail))));
      });
      state.audit.cursor = r.data && r.data.next_cursor || null;
      more.hidden = !state.audit.cursor;
      $('#audit-empty').hidden = tbody.children.length > 0;
    });
  }

  /* ---------------------------------------------------------------- */
  /* Notices and appeals (EU Digital Services Act)                     */
  /* ---------------------------------------------------------------- */

  function category(c) { return text(c).replace(/^STATEMENT_CATEGORY_/, '').replace(/_/g, ' ').toLowerCase(); }

  function loadNotices() {
    var tbody = $('#notices-table tbody');
    api('GET', '/api/v1/mod/notices' + siteQuery('?')).then(function (r) {
      if (!r.ok) { if (r.status !== 401) toast('Could not load notices: ' + errorMessage(r), 'error'); return; }
      clear(tbody);
      listFrom(r.data, ['notices']).forEach(function (n) {
        var decide = function (body, done) {
          api('POST', '/api/v1/mod/notices/' + encodeURIComponent(n.id) + '/decision', body).then(function (d) {
            if (d.ok) { toast(done, 'ok'); loadNotices(); }
            else if (d.status !== 401) toast(errorMessage(d), 'error');
          });
        };
        tbody.appendChild(el('tr', { class: 'notice-row', 'data-id': String(n.id) },
          el('td', { class: 'nowrap' }, timeEl(n.created_at), n.trusted ? [' ', el('span', { class: 'badge badge-trusted' }, 'trusted flagger')] : ''),
          el('td', null, text(n.site)),
          el('td', null, category(n.category)),
          el('td', { class: 'detail card-body' }, n.comment ? text(n.comment.body) : '#' + n.comment_id),
          el('td', { class: 'detail card-body' }, text(n.explanation)),
          el('td', { class: 'mono' }, text(n.notifier_name) + ' <' + text(n.notifier_email) + '>'),
          el('td', { class: 'nowrap' },
            el('button', { type: 'button', class: 'btn btn-small btn-reject notice-remove', onclick: function () { decide({ action: 'remove' }, 'Comment removed; notifier and author told'); } }, 'Remove'),
            ' ',
            el('button', { type: 'button', class: 'btn btn-small notice-dismiss', onclick: function () { decide({ action: 'dismiss' }, 'Notice dismissed; notifier told'); } }, 'Dismiss'),
            ' ',
            el('button', { type: 'button', class: 'btn btn-small btn-ghost notice-unfounded', title: 'Dismiss as manifestly unfounded (counts against the notifier)', onclick: function () { decide({ action: 'dismiss', manifestly_unfounded: true }, 'Notice dismissed as unfounded'); } }, 'Unfounded'))));
      });
      $('#notices-empty').hidden = tbody.children.length > 0;
    });
    $('#dsa-site').hidden = !state.site;
    $('#dsa-pick-site').hidden = !!state.site;
    if (state.site) loadDSASite();
  }

  function loadDSASite() {
    var base = '/api/v1/mod/sites/' + encodeURIComponent(state.site);
    api('GET', base + '/trusted-flaggers').then(function (r) {
      if (!r.ok) return;
      var ul = $('#flaggers-list');
      clear(ul);
      listFrom(r.data, ['trusted_flaggers']).forEach(function (f) {
        ul.appendChild(el('li', { class: 'flagger' }, el('span', { class: 'mono' }, text(f.email)), f.name ? ' (' + text(f.name) + ') ' : ' ',
          el('button', { type: 'button', class: 'btn btn-small btn-ghost', onclick: function () {
            api('DELETE', base + '/trusted-flaggers/' + encodeURIComponent(f.email)).then(function (d) {
              if (d.ok) loadDSASite(); else if (d.status !== 401) toast(errorMessage(d), 'error');
            });
          } }, 'Remove')));
      });
    });
    api('GET', base + '/misuse').then(function (r) {
      if (!r.ok) return;
      var tbody = $('#misuse-table tbody');
      clear(tbody);
      listFrom(r.data, ['notifiers']).forEach(function (n) {
        tbody.appendChild(el('tr', null, el('td', { class: 'mono' }, 'notifier ' + text(n.email)),
          el('td', null, n.manifestly_unfounded + ' unfounded of ' + n.notices), el('td', { class: 'misuse-suggestion' }, text(n.suggestion) || '—')));
      });
      listFrom(r.data, ['authors']).forEach(function (a) {
        tbody.appendChild(el('tr', null, el('td', { class: 'mono', title: text(a.email_hash) }, 'author ' + short(text(a.email_hash))),
          el('td', null, a.removed_on_notice + ' removed on notice'), el('td', { class: 'misuse-suggestion' }, text(a.suggestion) || '—')));
      });
    });
  }

  function addFlagger(ev) {
    ev.preventDefault();
    if (!state.site) return;
    api('POST', '/api/v1/mod/sites/' + encodeURIComponent(state.site) + '/trusted-flaggers',
      { email: $('#flagger-email').value.trim(), name: $('#flagger-name').value.trim() }).then(function (r) {
      if (r.ok) { $('#flagger-email').value = ''; $('#flagger-name').value = ''; toast('Trusted flagger added', 'ok'); loadDSASite(); }
      else if (r.status !== 401) toast(errorMessage(r), 'error');
    });
  }

  function loadAppeals() {
    var tbody = $('#appeals-table tbody');
    api('GET', '/api/v1/mod/appeals' + siteQuery('?')).then(function (r) {
      if (!r.ok) { if (r.status !== 401) toast('Could not load appeals: ' + errorMessage(r), 'error'); return; }
      clear(tbody);
      listFrom(r.data, ['appeals']).forEach(function (a) {
        var decide = function (outcome, done) {
          api('POST', '/api/v1/mod/appeals/' + encodeURIComponent(a.id) + '/decision', { outcome: outcome }).then(function (d) {
            if (d.ok) { toast(done, 'ok'); loadAppeals(); }
            else if (d.status !== 401) toast(errorMessage(d), 'error');
          });
        };
        var st = a.statement || {};
        tbody.appendChild(el('tr', { class: 'appeal-row', 'data-id': String(a.id) },
          el('td', { class: 'nowrap' }, timeEl(a.created_at)),
          el('td', null, text(a.site)),
          el('td', null, el('span', { class: 'badge' }, text(st.decision)), st.automated_decision ? ' (automated)' : ''),
          el('td', { class: 'detail' }, text(st.ground)),
          el('td', { class: 'detail card-body' }, a.comment ? text(a.comment.body) : '#' + a.comment_id),
          el('td', { class: 'detail card-body' }, text(a.explanation)),
          el('td', { class: 'nowrap' },
            el('button', { type: 'button', class: 'btn btn-small btn-approve appeal-reverse', onclick: function () { decide('reverse', 'Decision reversed; author told'); } }, 'Reverse'),
            ' ',
            el('button', { type: 'button', class: 'btn btn-small appeal-uphold', onclick: function () { decide('uphold', 'Decision upheld; author told'); } }, 'Uphold'))));
      });
      $('#appeals-empty').hidden = tbody.children.length > 0;
    });
  }

  /* ---------------------------------------------------------------- */
  /* Bans                                                              */
  /* ---------------------------------------------------------------- */

  function loadBans() {
    var tbody = $('#bans-table tbody');
    api('GET', '/api/v1/mod/bans' + siteQuery('?')).then(function (r) {
      if (!r.ok) { if (r.status !== 401) toast('Could not load bans: ' + errorMessage(r), 'error'); return; }
      clear(tbody);
      listFrom(r.data, ['bans', 'items']).forEach(function (b) {
        var ident = b.value || b.hash || b.identity || b.email_hash || b.ip_hash || b.reader_id || '';
        tbody.appendChild(el('tr', null,
          el('td', null, el('span', { class: 'badge' }, text(b.kind))),
          el('td', { class: 'mono', title: text(ident) }, ident ? short(text(ident)) : '—'),
          el('td', { class: 'detail' }, text(b.reason)),
          el('td', null, b.shadow ? 'yes' : ''),
          el('td', { class: 'nowrap' }, b.expires_at ? timeEl(b.expires_at) : 'never'),
          el('td', { class: 'nowrap' }, timeEl(b.created_at)),
          el('td', null, text(b.moderator || b.created_by)),
          el('td', null, b.id === undefined ? '' : el('button', { type: 'button', class: 'btn btn-small', onclick: function () { liftBan(b); } }, 'Lift'))));
      });
      $('#bans-empty').hidden = tbody.children.length > 0;
    });
  }

  function liftBan(b) {
    confirmDialog('Lift this ' + text(b.kind) + ' ban' + (b.reason ? ' (“' + text(b.reason) + '”)' : '') + '?', 'Lift ban').then(function (ok) {
      if (!ok) return;
      api('DELETE', '/api/v1/mod/bans/' + encodeURIComponent(b.id)).then(function (r) {
        if (r.ok) { toast('Ban lifted', 'ok'); loadBans(); }
        else if (r.status !== 401) toast(errorMessage(r), 'error');
      });
    });
  }

  /* ---------------------------------------------------------------- */
  /* Sites (admin)                                                     */
  /* ---------------------------------------------------------------- */

  var SITE_DEFAULTS = {
    slug: '', origins: [], reactions: ['like', 'dislike'], comments_open: true, strict_articles: false, edit_window_seconds: 900,
    eu_dsa: true, language: 'en', reply_digest_minutes: 30,
    moderation: { mode: 'post', first_time_approved: 1, banned_words: [], suspect_words: [], max_links: 2, report_threshold: 3 }
  };

  function renderSitesList() {
    var ul = $('#sites-list');
    clear(ul);
    state.sites.forEach(function (s) {
      var on = s.slug === state.siteForm.slug;
      ul.appendChild(el('li', null, el('button', {
        type: 'button', class: 'side-item' + (on ? ' active' : ''), 'aria-current': on ? 'true' : null,
        onclick: function () { openSite(s.slug); }
      }, s.slug)));
    });
    if (!state.sites.length) ul.appendChild(el('li', { class: 'muted pad' }, 'No sites yet.'));
  }

  function lines(v) { return v.split(/\r?\n/).map(function (s) { return s.trim(); }).filter(Boolean); }
  function commaList(v) { return v.split(/[\s,]+/).map(function (s) { return s.trim(); }).filter(Boolean); }
  function intOrUndef(v) { return v === '' || v === null ? undefined : parseInt(v, 10); }

  function fillSiteForm(s) {
    var m = s.moderation || {};
    $('#site-slug').value = s.slug || '';
    $('#site-origins').value = (s.origins || []).join('\n');
    var styles = s.reaction_styles || {};
    $('#site-reactions').value = (s.reactions || []).map(function (name) {
      var st = styles[name] || {};
      return [name, st.label || '', st.icon || ''].join(' | ').replace(/( \| )+$/, '');
    }).join('\n');
    $('#site-comments-open').checked = s.comments_open !== false;
    $('#site-strict').checked = !!s.strict_articles;
    $('#site-edit-window').value = s.edit_window_seconds !== undefined ? s.edit_window_seconds : '';
    $('#site-language').value = s.language === 'fr' ? 'fr' : 'en';
    $('#site-reply-digest').value = s.reply_digest_minutes !== undefined ? s.reply_digest_minutes : '';
    $('#site-mode').value = m.mode || 'post';
    $('#site-first-time').value = m.first_time_approved !== undefined ? m.first_time_approved : '';
    $('#site-banned').value = (m.banned_words || []).join('\n');
    $('#site-suspect').value = (m.suspect_words || []).join('\n');
    $('#site-max-links').value = m.max_links !== undefined ? m.max_links : '';
    $('#site-report-threshold').value = m.report_threshold !== undefined ? m.report_threshold : '';
    $('#site-eu-dsa').checked = s.eu_dsa !== false;
    $('#site-grounds').value = (s.terms_grounds || []).join('\n');
  }

  // readReactions parses "name | label | icon" lines into the reaction
  // list and the labels and icons of those that have them.
  function readReactions(s, v) {
    lines(v).forEach(function (line) {
      var parts = line.split('|').map(function (p) { return p.trim(); });
      if (!parts[0]) return;
      s.reactions.push(parts[0]);
      if (parts[1] || parts[2]) s.reaction_styles[parts[0]] = { label: parts[1] || '', icon: parts[2] || '' };
    });
  }

  function readSiteForm() {
    var s = {
      origins: lines($('#site-origins').value),
      reactions: [],
      reaction_styles: {},
      comments_open: $('#site-comments-open').checked,
      strict_articles: $('#site-strict').checked,
      edit_window_seconds: intOrUndef($('#site-edit-window').value),
      eu_dsa: $('#site-eu-dsa').checked,
      language: $('#site-language').value,
      reply_digest_minutes: intOrUndef($('#site-reply-digest').value),
      // Left empty, a new site gets the default grounds.
      terms_grounds: lines($('#site-grounds').value).length ? lines($('#site-grounds').value) : undefined,
      moderation: {
        mode: $('#site-mode').value,
        first_time_approved: intOrUndef($('#site-first-time').value),
        banned_words: lines($('#site-banned').value),
        suspect_words: lines($('#site-suspect').value),
        max_links: intOrUndef($('#site-max-links').value),
        report_threshold: intOrUndef($('#site-report-threshold').value)
      }
    };
    readReactions(s, $('#site-reactions').value);
    Object.keys(s).forEach(function (k) { if (s[k] === undefined) delete s[k]; });
    Object.keys(s.moderation).forEach(function (k) { if (s.moderation[k] === undefined) delete s.moderation[k]; });
    return s;
  }

  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  // siteChanges is the partial PUT body: changed top-level fields, and the
  // whole moderation object when any of it changed (so the server's merge
  // rule for nested objects does not matter).
  function siteChanges(orig, cur) {
    var out = {};
    Object.keys(cur).forEach(function (k) {
      if (k === 'moderation') {
        var om = orig.moderation || {};
        var changed = Object.keys(cur.moderation).some(function (mk) { return !same(om[mk], cur.moderation[mk]); });
        if (changed) out.moderation = cur.moderation;
      } else if (!same(orig[k], cur[k])) {
        out[k] = cur[k];
      }
    });
    return out;
  }

  function showSiteForm(title, creating) {
    var form = $('#site-form');
    form.hidden = false;
    showImportForm(creating ? null : state.siteForm.slug);
    $('#site-form-title').textContent = title;
    $('#site-slug').readOnly = !creating;
    $('#site-slug').classList.toggle('readonly', !creating);
    $('#site-error').hidden = true;
    $('#site-saved').textContent = '';
    $('#site-save').textContent = creating ? 'Create site' : 'Save changes';
  }

  function openSite(slug) {
    state.siteForm = { slug: slug, original: null };
    renderSitesList();
    api('GET', '/api/v1/mod/sites/' + encodeURIComponent(slug)).then(function (r) {
      if (state.siteForm.slug !== slug) return;
      if (!r.ok) { if (r.status !== 401) toast('Could not load ' + slug + ': ' + errorMessage(r), 'error'); return; }
      var s = r.data && r.data.site ? r.data.site : r.data || {};
      if (!s.slug) s.slug = slug;
      fillSiteForm(s);
      state.siteForm.original = readSiteForm();
      showSiteForm('Site ' + slug, false);
    });
  }

  function newSite() {
    state.siteForm = { slug: null, original: null };
    renderSitesList();
    fillSiteForm(SITE_DEFAULTS);
    showSiteForm('New site', true);
    $('#site-slug').focus();
  }

  function onSiteSave(ev) {
    ev.preventDefault();
    var err = $('#site-error');
    err.hidden = true;
    var cur = readSiteForm();
    var bad = ['#site-edit-window', '#site-first-time', '#site-max-links', '#site-report-threshold'].filter(function (sel) {
      var v = $(sel).value;
      return v !== '' && !(/^\d+$/.test(v));
    });
    if (bad.length) {
      err.textContent = 'Numbers must be whole and not negative.';
      err.hidden = false;
      $(bad[0]).focus();
      return;
    }
    var creating = !state.siteForm.slug;
    var req;
    if (creating) {
      var slug = $('#site-slug').value.trim();
      if (!/^[a-z0-9][a-z0-9-]*$/.test(slug)) {
        err.textContent = 'The slug takes lower-case letters, digits and dashes.';
        err.hidden = false;
        $('#site-slug').focus();
        return;
      }
      cur.slug = slug;
      req = api('POST', '/api/v1/mod/sites', cur);
    } else {
      var changes = siteChanges(state.siteForm.original || {}, cur);
      if (!Object.keys(changes).length) { $('#site-saved').textContent = 'No changes.'; return; }
      req = api('PUT', '/api/v1/mod/sites/' + encodeURIComponent(state.siteForm.slug), changes);
    }
    var btn = $('#site-save');
    btn.disabled = true;
    req.then(function (r) {
      btn.disabled = false;
      if (!r.ok) {
        if (r.status === 401) return;
        err.textContent = errorMessage(r);
        err.hidden = false;
        return;
      }
      var slug2 = creating ? cur.slug : state.siteForm.slug;
      // The server stores origins as browsers send them (lower case, no
      // default port, no trailing slash): say so when that changed them.
      var stored = (r.data && r.data.origins) || [];
      var note = (cur.origins || []).join('\n') !== stored.join('\n') ? ' (origins written as browsers send them: ' + stored.join(', ') + ')' : '';
      toast((creating ? 'Site ' + slug2 + ' created' : 'Saved ' + slug2) + note, 'ok');
      loadSites().then(function () { openSite(slug2); });
    });
  }

  /* ---------------------------------------------------------------- */
  /* Import and export of a site (admin)                               */
  /* ---------------------------------------------------------------- */

  // showImportForm shows the import form under an existing site's
  // settings, and the running or last job of that site if there is one.
  function showImportForm(slug) {
    var form = $('#import-form');
    form.hidden = !slug;
    if (!slug) return;
    $('#site-export').href = '/api/v1/mod/sites/' + encodeURIComponent(slug) + '/export';
    $('#import-error').hidden = true;
    var job = state.importJob;
    if (job && job.site === slug) { renderImportJob(job); return; }
    $('#import-status').textContent = '';
    $('#import-report').hidden = true;
    $('#import-start').disabled = false;
  }

  function onImportStart(ev) {
    ev.preventDefault();
    var slug = state.siteForm.slug;
    var err = $('#import-error');
    err.hidden = true;
    var file = $('#import-file').files[0];
    if (!slug) return;
    if (!file) {
      err.textContent = 'Choose the export file first.';
      err.hidden = false;
      $('#import-file').focus();
      return;
    }
    var q = '?format=' + encodeURIComponent($('#import-format').value) + ($('#import-dry-run').checked ? '&dry_run=1' : '');
    lines($('#import-rewrite').value).forEach(function (l) { q += '&rewrite=' + encodeURIComponent(l); });
    $('#import-start').disabled = true;
    $('#import-report').hidden = true;
    $('#import-status').textContent = 'Uploading ' + file.name + '…';
    api('POST', '/api/v1/mod/sites/' + encodeURIComponent(slug) + '/imports' + q, file, { raw: true }).then(function (r) {
      if (!r.ok) {
        $('#import-start').disabled = false;
        $('#import-status').textContent = '';
        if (r.status === 401) return;
        err.textContent = errorMessage(r);
        err.hidden = false;
        return;
      }
      state.importJob = r.data;
      renderImportJob(r.data);
      pollImport(r.data.id);
    });
  }

  // pollImport follows a job until it ends; the server keeps it in memory.
  function pollImport(id) {
    setTimeout(function () {
      if (!state.importJob || state.importJob.id !== id) return;
      api('GET', '/api/v1/mod/imports/' + encodeURIComponent(id)).then(function (r) {
        if (!state.importJob || state.importJob.id !== id) return;
        if (!r.ok) {
          if (r.status === 401) return;
          state.importJob = null;
          if (state.siteForm.slug) {
            $('#import-start').disabled = false;
            $('#import-status').textContent = '';
            $('#import-error').textContent = errorMessage(r);
            $('#import-error').hidden = false;
          }
          return;
        }
        state.importJob = r.data;
        renderImportJob(r.data);
        if (r.data.state === 'running') pollImport(id);
        else toast(r.data.state === 'done' ? 'Import into ' + r.data.site + ' done' : 'Import into ' + r.data.site + ' failed', r.data.state === 'done' ? 'ok' : 'error');
      });
    }, 500);
  }

  var PHASES = { uploading: 'Uploading…', checking: 'Checking the file…', writing: 'Writing…' };

  function renderImportJob(job) {
    if (state.siteForm.slug !== job.site) return;
    var running = job.state === 'running';
    $('#import-start').disabled = running;
    var status = $('#import-status');
    if (running) {
      status.textContent = (PHASES[job.phase] || 'Working…') + ' ' + job.read + ' records read, ' + job.written + ' comments written';
    } else if (job.state === 'failed') {
      status.textContent = '';
      $('#import-error').textContent = 'The import failed: ' + (job.error || 'no reason given') + '. Nothing is written twice: fix the file and import it again.';
      $('#import-error').hidden = false;
    } else {
      status.textContent = job.dry_run ? 'Dry run done: nothing was written.' : 'Import done.';
    }
    var box = $('#import-report');
    clear(box);
    box.hidden = !job.report;
    if (job.report) renderImportReport(box, job.report);
  }

  // renderImportReport draws `parley import -json`'s report.
  function renderImportReport(box, rep) {
    var rows = [
      ['Format', rep.format],
      ['Records read', rep.read],
      ['Articles', rep.articles]
    ];
    Object.keys(rep.comments || {}).sort().forEach(function (st) { rows.push(['Comments ' + st, rep.comments[st]]); });
    if (!rep.dry_run) {
      rows.push(['Written', rep.written]);
      rows.push(['Already imported', rep.already_imported]);
    }
    rows.push(['Skipped', rep.skipped_count]);
    rows.push(['Merged articles', (rep.merged_articles || []).length]);
    rows.push(['Repaired parents', (rep.repaired_parents || []).length]);
    rows.push(['Seconds', (rep.seconds || 0).toFixed(1)]);
    append(box, el('table', { class: 'grid', id: 'import-report-table', 'aria-label': 'Import report' }, el('tbody', null, rows.map(function (r) {
      return el('tr', { 'data-key': r[0] }, [el('th', { scope: 'row' }, r[0]), el('td', null, String(r[1]))]);
    }))));
    function list(title, items, fmt) {
      if (!items || !items.length) return;
      append(box, [el('h3', null, title), el('ul', { class: 'mono' }, items.map(function (x) { return el('li', null, fmt(x)); }))]);
    }
    list('Skipped records', rep.skipped, function (x) { return x.source_id + ': ' + x.reason; });
    if (rep.skipped_count > (rep.skipped || []).length) append(box, el('p', { class: 'help' }, 'The first ' + rep.skipped.length + ' of ' + rep.skipped_count + ' are listed.'));
    list('Merged articles', rep.merged_articles, function (x) { return x.key + ': ' + x.urls.join(', '); });
    list('Repaired parents', rep.repaired_parents, function (x) { return x.source_id + (x.parent_id ? ' (parent ' + x.parent_id + ')' : '') + ': ' + x.reason; });
  }

  /* ---------------------------------------------------------------- */
  /* Moderators (admin)                                                */
  /* ---------------------------------------------------------------- */

  function renderModeratorSiteChoices() {
    var box = $('#mod-sites');
    var checked = new Set($$('input:checked', box).map(function (i) { return i.value; }));
    clear(box);
    state.sites.forEach(function (s) {
      box.appendChild(el('label', null, el('input', { type: 'checkbox', name: 'sites', value: s.slug, checked: checked.has(s.slug) }), ' ', s.slug));
    });
  }

  function loadModerators() {
    var tbody = $('#moderators-table tbody');
    api('GET', '/api/v1/mod/moderators').then(function (r) {
      if (!r.ok) { if (r.status !== 401) toast('Could not load moderators: ' + errorMessage(r), 'error'); return; }
      clear(tbody);
      listFrom(r.data, ['moderators', 'items']).forEach(function (m) {
        var self = state.me && String(state.me.id) === String(m.id);
        var role = el('select', { 'aria-label': 'Role of ' + (m.email || ''), disabled: self },
          ['moderator', 'admin'].map(function (v) { return el('option', { value: v, selected: m.role === v }, v); }));
        role.addEventListener('change', function () {
          api('PUT', '/api/v1/mod/moderators/' + encodeURIComponent(m.id), { role: role.value }).then(function (r2) {
            if (r2.ok) toast(m.email + ' is now ' + role.value, 'ok');
            else { role.value = m.role; if (r2.status !== 401) toast(errorMessage(r2), 'error'); }
          });
        });
        var sites = Array.isArray(m.sites) && m.sites.length ? m.sites.map(text).join(', ') : 'all sites';
        tbody.appendChild(el('tr', null,
          el('td', null, text(m.email), self ? el('span', { class: 'muted' }, ' (you)') : null),
          el('td', null, role),
          el('td', null, sites),
          el('td', { class: 'nowrap' }, timeEl(m.created_at)),
          el('td', null, self ? '' : el('button', { type: 'button', class: 'btn btn-small', onclick: function () { removeModerator(m); } }, 'Remove'))));
      });
    });
  }

  function removeModerator(m) {
    confirmDialog('Remove moderator ' + text(m.email) + '? Their sessions and API tokens stop working.', 'Remove').then(function (ok) {
      if (!ok) return;
      api('DELETE', '/api/v1/mod/moderators/' + encodeURIComponent(m.id)).then(function (r) {
        if (r.ok) { toast('Removed ' + text(m.email), 'ok'); loadModerators(); }
        else if (r.status !== 401) toast(errorMessage(r), 'error');
      });
    });
  }

  function onModeratorAdd(ev) {
    ev.preventDefault();
    var err = $('#moderator-error');
    err.hidden = true;
    var email = $('#mod-email').value.trim();
    var password = $('#mod-password').value;
    if (!email || password.length < 10) {
      err.textContent = !email ? tr('Enter an email address.') : tr('The password needs at least 10 characters.');
      err.hidden = false;
      (!email ? $('#mod-email') : $('#mod-password')).focus();
      return;
    }
    var body = { email: email, password: password, role: $('#mod-role').value };
    // Left out, sites means every site; the API refuses an empty list.
    var sites = $$('#mod-sites input:checked').map(function (i) { return i.value; });
    if (sites.length) body.sites = sites;
    var btn = $('#moderator-add');
    btn.disabled = true;
    api('POST', '/api/v1/mod/moderators', body).then(function (r) {
      btn.disabled = false;
      if (!r.ok) {
        if (r.status === 401) return;
        err.textContent = errorMessage(r);
        err.hidden = false;
        return;
      }
      toast('Added ' + email, 'ok');
      $('#moderator-form').reset();
      renderModeratorSiteChoices();
      loadModerators();
    });
  }

  /* ---------------------------------------------------------------- */
  /* Wiring                                                            */
  /* ---------------------------------------------------------------- */

  function bind() {
    $('#login-form').addEventListener('submit', onLogin);
    $('#logout').addEventListener('click', logout);
    $('#help-button').addEventListener('click', openHelp);
    $('#site-filter').addEventListener('change', onSiteFilter);
    $('#queue-sort').value = state.sort;
    $('#queue-sort').addEventListener('change', function () {
      state.sort = $('#queue-sort').value;
      storage.set(STORE_SORT, state.sort);
      loadQueue(true);
    });
    $('#refresh').addEventListener('click', function () { refreshCounts(); loadQueue(true); });
    $('#load-more').addEventListener('click', function () { loadQueue(false); });
    $('#audit-more').addEventListener('click', function () { loadAudit(false); });
    $('#flagger-form').addEventListener('submit', addFlagger);
    $('#insights-days').addEventListener('change', route);
    $('#select-all').addEventListener('change', function () {
      var on = $('#select-all').checked;
      state.entries.forEach(function (e) { setChecked(e, on); });
      updateBulk();
    });
    $$('#bulk-bar [data-bulk]').forEach(function (b) {
      b.addEventListener('click', function () { bulk(b.getAttribute('data-bulk')); });
    });
    $$('.queue-tab').forEach(function (t) {
      t.addEventListener('click', function () { go(t.getAttribute('data-queue')); });
    });
    $$('.view-tab').forEach(function (t) {
      t.addEventListener('click', function () { go(t.getAttribute('data-view')); });
    });
    $('#ban-form').addEventListener('submit', onBanSubmit);
    $('#ban-expiry').addEventListener('change', function () {
      var custom = $('#ban-expiry').value === 'custom';
      $('#ban-expiry-at').hidden = !custom;
      if (custom) $('#ban-expiry-at').focus();
    });
    $('#site-form').addEventListener('submit', onSiteSave);
    $('#import-form').addEventListener('submit', onImportStart);
    $('#site-new').addEventListener('click', newSite);
    $('#moderator-form').addEventListener('submit', onModeratorAdd);
    document.addEventListener('keydown', onKey);
    window.addEventListener('hashchange', route);
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'visible' && state.me) refreshCounts();
    });
    // Refresh relative times once a minute.
    setInterval(function () {
      $$('time[datetime]').forEach(function (t) {
        var d = new Date(t.getAttribute('datetime'));
        if (!isNaN(d.getTime())) t.textContent = relative(d);
      });
    }, 60000);
  }

  function boot() {
    bind();
    $('#digest').addEventListener('change', function () {
      api('PUT', '/api/v1/mod/digest', { every_minutes: Number($('#digest').value) });
    });
    loadLang().then(function () {
      // Without a sign-in in this browser there is no session to ask
      // about: asking would only log a 401 in the console.
      if (!storage.get(STORE_SIGNED_IN)) { showLogin(''); return; }
      api('GET', '/api/v1/mod/session', undefined, { quiet401: true }).then(function (r) {
        if (r.ok && r.data && r.data.csrf_token) startSession(r.data);
        else showLogin(r.status === 0 ? tr('The server could not be reached.') : '');
      });
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
  else boot();
})();

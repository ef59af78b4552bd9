/*
 * Parley embed widget: article reactions and reader comments.
 *
 * Usage on an article page:
 *
 *   <script src="https://parley.example/embed.js" async></script>
 *   <div data-parley-site="news" data-parley-article="key-123"></div>
 *
 * Every element with data-parley-site is mounted when the script runs, and so
 * is any added to the page later (window.Parley.mount(el) does it by hand;
 * window.Parley.mountAll(root) scans a subtree). The widget lives in an open
 * Shadow DOM with its own stylesheet, so the page's CSS cannot reach it.
 *
 * Attributes on the element:
 *   data-parley-site          site slug (required)
 *   data-parley-article       article key, [A-Za-z0-9._~-], 1-200 chars (required)
 *   data-parley-mode          "full" (default): reactions and comments; "reactions": the
 *                             question and the reaction buttons only; "comments": the
 *                             discussion only; "count": one inline line
 *                             "[like] 12 · [dislike] 3 · [comments] 5"; all count elements
 *                             on a page share one reactions request per site (<= 100
 *                             articles). Placements of one article stay in step.
 *   data-parley-api           API base URL; default: the origin of this script's src
 *   data-parley-lang          language of the texts, dates, numbers and plurals;
 *                             default: <html lang>, then the browser's language. Bundled:
 *                             en, fr, de, es, it, pt, nl, ar (right to left), ja; the
 *                             texts of another language than English are fetched once
 *                             (README.md lists the keys)
 *   data-parley-captcha-lang  audio captcha language: en, ja, pt, ru or zh (the
 *                             languages the server speaks digits in);
 *                             default: the locale's language when supported, else en
 *   data-parley-sort          initial comment order: oldest (default), newest, top
 *   data-parley-edit-window   seconds a new comment offers Edit/Delete (default 900;
 *                             the server has the last word: edit_window_closed)
 *   data-parley-theme         light (default), dark, or auto (follows the OS)
 *   data-parley-text-<key>    replaces one UI text, e.g.
 *                             data-parley-text-question="Gefällt Ihnen dieser Artikel?"
 *
 * Theming from the page (custom properties cross the shadow boundary, nothing
 * else does): --parley-accent, --parley-focus, --parley-font, --parley-bg,
 * --parley-count-size, --parley-count-color.
 *
 * Text keys are those of TEXT below ({n}, {max}, {author} are placeholders;
 * counted texts take CLDR plural suffixes such as comments-one, comments-other).
 * A reaction's label is data-parley-text-<name>, else the site's label.
 *
 * Browser storage (localStorage of the publisher's page):
 *   parley:reader                 reader token (X-Reader-Token)
 *   parley:author                 {"author","email"} remembered for the form
 *   parley:edit:<id>              {"token","created"}: edit token of my comment
 *   parley:votes                  {"<id>": 1 | -1} my comment votes
 *   parley:reported               {"<id>": 1} comments I reported
 *   parley:pending:<site>/<key>   my comments awaiting moderation (shown to me)
 *   parley:sort                   the reader's last chosen order
 *
 * All server and user text is inserted as text nodes, never as HTML.
 */
(function () {
  'use strict';

  if (window.Parley && window.Parley.__parley) {
    window.Parley.mountAll(document);
    return;
  }

  var VERSION = '1';
  var MAX_BODY = 5000;
  var MAX_AUTHOR = 80;
  var PAGE_SIZE = 50;
  var BATCH = 100;
  var ARTICLE_RE = /^[A-Za-z0-9._~-]{1,200}$/;
  var CAPTCHA_LANGS = ['en', 'ja', 'pt', 'ru', 'zh'];
  var SORTS = ['oldest', 'newest', 'top'];
  var REASONS = ['spam', 'abuse', 'off_topic', 'other'];
  var READER_KEY = 'parley:reader';
  var AUTHOR_KEY = 'parley:author';
  var VOTES_KEY = 'parley:votes';
  var REPORTED_KEY = 'parley:reported';
  var SORT_KEY = 'parley:sort';
  var EDIT_PREFIX = 'parley:edit:';
  var PENDING_PREFIX = 'parley:pending:';
  var KEEP_MS = 7 * 24 * 3600 * 1000;

  // Replaced by the server with {"fr": {"url", "integrity"}, …}.
  var LANGS = '__PARLEY_LANGS__';

  var TEXT = {
    'question': 'Do you like this article?',
    'like': 'Like',
    'dislike': 'Dislike',
    'reaction-error': 'Your reaction could not be saved. Please try again.',
    'comments-one': '{n} comment',
    'comments-other': '{n} comments',
    'form-title': 'Join the discussion',
    'reply-title': 'Reply to {author}',
    'name': 'Name',
    'email': 'Email',
    'email-hint': '(optional, never shown)',
    'body': 'Your comment',
    'counter': '{n} / {max}',
    'captcha-img': 'Security check: digits to type',
    'captcha-label': 'Type the digits shown',
    'captcha-audio': 'Play audio',
    'captcha-new': 'New captcha',
    'captcha-loading': 'Loading security check…',
    'captcha-error': 'The security check could not be loaded.',
    'captcha-audio-error': 'The audio could not be played.',
    'captcha-invalid': 'The digits did not match. Please try this new one.',
    'submit': 'Post comment',
    'submit-reply': 'Post reply',
    'submitting': 'Posting…',
    'required': 'This field is required.',
    'too-long': 'Please use at most {max} characters.',
    'email-invalid': 'Please enter a valid email address.',
    'notify-replies': 'Email me replies',
    'notify-confirm': 'Check your inbox: follow the link we sent to receive replies.',
    'awaiting': 'Your comment is awaiting moderation.',
    'published': 'Your comment was published.',
    'rate-limited': 'Too many comments, try again in {n} s',
    'rate-limited-later': 'Too many comments, please try again later.',
    'slow-down': 'Too many requests, please wait a moment.',
    'closed': 'Comments are closed for this article.',
    'sort': 'Sort by',
    'sort-oldest': 'Oldest first',
    'sort-newest': 'Newest first',
    'sort-top': 'Top rated',
    'loading': 'Loading comments…',
    'load-error': 'Comments could not be loaded.',
    'retry': 'Try again',
    'empty': 'No comments yet. Be the first to comment.',
    'load-more': 'Load more comments',
    'in-reply-to': 'In reply to an earlier comment',
    'edited': 'edited',
    'score': 'Score',
    'vote-up': 'Vote up',
    'vote-down': 'Vote down',
    'vote-error': 'Your vote could not be saved.',
    'reply': 'Reply',
    'report': 'Report',
    'report-title': 'Why are you reporting this comment?',
    'report-reason': 'Reason',
    'reason-spam': 'Spam',
    'reason-abuse': 'Abusive or hateful',
    'reason-off_topic': 'Off topic',
    'reason-other': 'Something else',
    'report-note': 'Note (optional)',
    'report-send': 'Send report',
    'reported': 'Reported, thank you.',
    'report-illegal': 'Report illegal content',
    'illegal-title': 'Report illegal content (EU Digital Services Act)',
    'illegal-hint': 'For spam or rudeness, use Report instead. This notice goes to the publisher with your name and email.',
    'illegal-category': 'Kind of illegal content',
    'illegal-explanation': 'Why is this content illegal? Name the law if you can.',
    'illegal-name': 'Your name',
    'illegal-email': 'Your email, for the confirmation and the decision',
    'illegal-good-faith': 'I believe in good faith that the information in this notice is accurate and complete.',
    'illegal-send': 'Send notice',
    'illegal-sent': 'Notice received. A confirmation was sent to your email.',
    'cancel': 'Cancel',
    'edit': 'Edit',
    'edit-label': 'Edit your comment',
    'save': 'Save',
    'delete': 'Delete',
    'delete-confirm': 'Delete this comment?',
    'delete-yes': 'Yes, delete',
    'deleted': 'This comment was deleted.',
    'edit-window-closed': 'The time for editing this comment has passed.',
    'not-yours': 'This comment can no longer be changed from this browser.',
    'error': 'Something went wrong. Please try again.',
    'network-error': 'Network problem. Please check your connection and try again.'
  };
  var RTL = ['ar', 'he', 'fa', 'ur'];

  /* ------------------------------------------------------------------ */
  /* Where the API lives                                                 */
  /* ------------------------------------------------------------------ */

  var SCRIPT = document.currentScript;
  if (!SCRIPT) {
    var candidates = document.querySelectorAll('script[src]');
    for (var i = candidates.length - 1; i >= 0; i--) {
      if (/\/embed(?:\.[0-9a-f]+)?\.js(?:[?#]|$)/.test(candidates[i].src)) { SCRIPT = candidates[i]; break; }
    }
  }

  function normalizeBase(value) {
    try {
      var u = new URL(value, window.location.href);
      return u.origin + u.pathname.replace(/\/+$/, '');
    } catch (e) {
      return null;
    }
  }

  var DEFAULT_BASE = (function () {
    if (SCRIPT && SCRIPT.getAttribute('data-parley-api')) {
      var b = normalizeBase(SCRIPT.getAttribute('data-parley-api'));
      if (b) return b;
    }
    if (SCRIPT && SCRIPT.src) {
      try { return new URL(SCRIPT.src, window.location.href).origin; } catch (e) { /* fall through */ }
    }
    return window.location.origin;
  })();

  var SCRIPT_ORIGIN = (function () {
    try { return new URL(SCRIPT.src, window.location.href).origin; } catch (e) { return window.location.origin; }
  })();

  // loadTexts fetches a language's texts once per page, checked against the
  // integrity the server wrote into this script; null means English.
  var textLoads = {};
  function loadTexts(lang) {
    var f = typeof LANGS === 'object' && Object.prototype.hasOwnProperty.call(LANGS, lang) ? LANGS[lang] : null;
    if (!f) return null;
    if (!textLoads[lang]) {
      textLoads[lang] = fetch(new URL(f.url, SCRIPT_ORIGIN).href, { integrity: f.integrity, mode: 'cors', credentials: 'omit' })
        .then(function (r) { return r.ok ? r.json() : null; })
        .catch(function () { return null; });
    }
    return textLoads[lang];
  }

  /* ------------------------------------------------------------------ */
  /* Storage that survives a browser without localStorage                */
  /* ------------------------------------------------------------------ */

  var memory = new Map();
  var store = {
    get: function (key) {
      try {
        var v = window.localStorage.getItem(key);
        if (v !== null) return v;
      } catch (e) { /* private mode or blocked */ }
      return memory.has(key) ? memory.get(key) : null;
    },
    set: function (key, value) {
      memory.set(key, value);
      try { window.localStorage.setItem(key, value); } catch (e) { /* quota or blocked */ }
    },
    remove: function (key) {
      memory.delete(key);
      try { window.localStorage.removeItem(key); } catch (e) { /* blocked */ }
    },
    getJSON: function (key, fallback) {
      var v = this.get(key);
      if (v === null) return fallback;
      try { return JSON.parse(v); } catch (e) { return fallback; }
    },
    setJSON: function (key, value) { this.set(key, JSON.stringify(value)); },
    keys: function () {
      var out = [];
      try {
        for (var i = 0; i < window.localStorage.length; i++) out.push(window.localStorage.key(i));
      } catch (e) { /* blocked */ }
      memory.forEach(function (_, k) { if (out.indexOf(k) < 0) out.push(k); });
      return out;
    }
  };

  // A small map kept in one key ({"id": value}), trimmed to its newest entries.
  function mapGet(key, id) {
    var m = store.getJSON(key, {});
    return m && Object.prototype.hasOwnProperty.call(m, id) ? m[id] : undefined;
  }
  function mapSet(key, id, value) {
    var m = store.getJSON(key, {});
    if (!m || typeof m !== 'object') m = {};
    delete m[id];
    if (value !== undefined && value !== null && value !== 0) m[id] = value;
    var ids = Object.keys(m);
    for (var i = 0; i < ids.length - 1000; i++) delete m[ids[i]];
    store.setJSON(key, m);
  }

  function getEdit(id) {
    var e = store.getJSON(EDIT_PREFIX + id, null);
    return e && typeof e.token === 'string' ? e : null;
  }

  (function sweepOldEditTokens() {
    var now = Date.now();
    store.keys().forEach(function (k) {
      if (k && k.indexOf(EDIT_PREFIX) === 0) {
        var e = store.getJSON(k, null);
        if (!e || !(now - (e.created || 0) < KEEP_MS)) store.remove(k);
      }
    });
  })();

  /* ------------------------------------------------------------------ */
  /* DOM helpers: text only, never HTML                                   */
  /* ------------------------------------------------------------------ */

  var PROPS = { value: 1, checked: 1, disabled: 1, hidden: 1, selected: 1 };

  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = v;
        else if (k.slice(0, 2) === 'on' && typeof v === 'function') el.addEventListener(k.slice(2), v);
        else if (PROPS[k]) el[k] = v;
        else el.setAttribute(k, v === true ? '' : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) add(el, arguments[i]);
    return el;
  }

  function add(el, kid) {
    if (kid === null || kid === undefined || kid === false) return;
    if (Array.isArray(kid)) { kid.forEach(function (k) { add(el, k); }); return; }
    el.appendChild(typeof kid === 'object' ? kid : document.createTextNode(String(kid)));
  }

  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); }

  function tokens(el, attr) {
    var v = el.getAttribute(attr);
    return v ? v.split(/\s+/).filter(Boolean) : [];
  }
  function addToken(el, attr, tok) {
    var list = tokens(el, attr);
    if (list.indexOf(tok) < 0) list.push(tok);
    el.setAttribute(attr, list.join(' '));
  }
  function removeToken(el, attr, tok) {
    var list = tokens(el, attr).filter(function (t) { return t !== tok; });
    if (list.length) el.setAttribute(attr, list.join(' '));
    else el.removeAttribute(attr);
  }

  var uidCounter = 0;
  function uid(prefix) { uidCounter += 1; return 'parley-' + prefix + '-' + uidCounter; }

  function codePoints(s) { return Array.from(s || '').length; }

  // Icons are inline SVG drawn with currentColor: emoji need an emoji font,
  // which many machines (and most CI images) lack, and render as boxes there.
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var ICONS = {
    like: ['M7 10.5v10H3.5v-10z', 'M7 10.5l3.6-7.2c1.6.1 2.9 1.4 2.9 3.1v3.1h5.2a2 2 0 0 1 2 2.3l-1.2 7.3a2 2 0 0 1-2 1.4H7'],
    dislike: ['M17 13.5v-10h3.5v10z', 'M17 13.5l-3.6 7.2c-1.6-.1-2.9-1.4-2.9-3.1v-3.1H5.3a2 2 0 0 1-2-2.3l1.2-7.3a2 2 0 0 1 2-1.4H17'],
    comments: ['M4.5 4h15A1.5 1.5 0 0 1 21 5.5v10a1.5 1.5 0 0 1-1.5 1.5H10l-5 4v-4h-.5A1.5 1.5 0 0 1 3 15.5v-10A1.5 1.5 0 0 1 4.5 4z'],
    heart: ['M12 20.5s-8-4.7-8-10.6A4.4 4.4 0 0 1 12 7.3a4.4 4.4 0 0 1 8 2.6c0 5.9-8 10.6-8 10.6z'],
    star: ['M12 3.5l2.6 5.3 5.9.9-4.3 4.1 1 5.8-5.2-2.7-5.2 2.7 1-5.8-4.3-4.1 5.9-.9z'],
    laugh: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M9 9.5h.01M15 9.5h.01', 'M7.5 13.5h9a4.5 4.5 0 0 1-9 0z'],
    wow: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M9 9.5h.01M15 9.5h.01', 'M12 18a2 2 0 1 0 0-4 2 2 0 0 0 0 4z'],
    sad: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M9 9.5h.01M15 9.5h.01', 'M8.5 16.5a4 4 0 0 1 7 0'],
    angry: ['M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z', 'M8 8.5l2.5 1.5M16 8.5L13.5 10', 'M8.5 16.5a4 4 0 0 1 7 0'],
    audio: ['M3.5 9.5h3.5l5-4v13l-5-4H3.5z', 'M15.5 9a4.5 4.5 0 0 1 0 6', 'M18.3 6.2a8.5 8.5 0 0 1 0 11.6'],
    'new': ['M20 4.5v5h-5', 'M19.4 9.5A8 8 0 1 0 20 14']
  };
  function icon(name) {
    var svg = document.createElementNS(SVG_NS, 'svg');
    var attrs = { 'class': 'parley-icon parley-icon--' + name, viewBox: '0 0 24 24', width: '18', height: '18', fill: 'none',
      stroke: 'currentColor', 'stroke-width': '2', 'stroke-linecap': 'round', 'stroke-linejoin': 'round',
      'aria-hidden': 'true', focusable: 'false' };
    Object.keys(attrs).forEach(function (k) { svg.setAttribute(k, attrs[k]); });
    ICONS[name].forEach(function (d) {
      var p = document.createElementNS(SVG_NS, 'path');
      p.setAttribute('d', d);
      svg.appendChild(p);
    });
    return svg;
  }

  // reactionIcon draws a reaction's icon: a built-in one as SVG, an emoji
  // as text.
  function reactionIcon(name) {
    if (Object.prototype.hasOwnProperty.call(ICONS, name)) return icon(name);
    return name ? h('span', { class: 'parley-emoji', 'aria-hidden': 'true' }, name) : null;
  }

  function enc(s) { return encodeURIComponent(s); }

  /* ------------------------------------------------------------------ */
  /* API client                                                           */
  /* ------------------------------------------------------------------ */

  function parseRetryAfter(v) {
    if (!v) return null;
    if (/^\s*\d+\s*$/.test(v)) return parseInt(v, 10);
    var at = Date.parse(v);
    return isNaN(at) ? null : Math.max(1, Math.ceil((at - Date.now()) / 1000));
  }

  function Client(base) {
    this.base = base;
    this.readerPromise = null;
  }

  // abs resolves a server-given URL ("/api/v1/captchas/…") against the API base.
  Client.prototype.abs = function (url) {
    if (/^https?:\/\//i.test(url)) return url;
    return this.base + (url.charAt(0) === '/' ? '' : '/') + url;
  };

  // raw performs one request; it never throws. The result is
  // {ok, status, data, error:{code,message,fields}|null, retryAfter}.
  Client.prototype.raw = function (method, path, headers, body) {
    var init = { method: method, headers: headers, mode: 'cors', credentials: 'omit' };
    if (body !== undefined) init.body = body;
    return fetch(this.abs(path), init).then(function (resp) {
      var retryAfter = parseRetryAfter(resp.headers.get('Retry-After'));
      var read = resp.status === 204 ? Promise.resolve('') : resp.text().catch(function () { return ''; });
      return read.then(function (text) {
        var data = null;
        if (text) { try { data = JSON.parse(text); } catch (e) { data = null; } }
        var error = null;
        if (!resp.ok) {
          error = data && data.error && typeof data.error === 'object'
            ? data.error
            : { code: 'http_' + resp.status, message: resp.statusText || ('HTTP ' + resp.status) };
        }
        return { ok: resp.ok, status: resp.status, data: data, error: error, retryAfter: retryAfter };
      });
    }, function (err) {
      return { ok: false, status: 0, data: null, error: { code: 'network', message: String(err && err.message || err) }, retryAfter: null };
    });
  };

  // reader resolves to a reader token, asking the server for one when there
  // is none, or when `failed` (a token the server refused) is the stored one.
  Client.prototype.reader = function (failed) {
    var self = this;
    var current = store.get(READER_KEY);
    if (current && current !== failed) return Promise.resolve(current);
    if (current && current === failed) store.remove(READER_KEY);
    if (!self.readerPromise) {
      self.readerPromise = self.raw('POST', '/api/v1/readers', { Accept: 'application/json' }).then(function (r) {
        self.readerPromise = null;
        if (r.ok && r.data && typeof r.data.token === 'string') {
          store.set(READER_KEY, r.data.token);
          return r.data.token;
        }
        throw r;
      });
    }
    return self.readerPromise;
  };

  // send wraps raw with JSON bodies and reader tokens. opts.reader:
  //   'required' obtain a token first; fail when none can be had
  //   'want'     obtain a token first; go on without one when that fails
  //   'optional' send the stored token if there is one
  // A 401 on a request that carried a reader token fetches a new token and
  // retries once.
  Client.prototype.send = function (method, path, opts) {
    var self = this;
    opts = opts || {};
    var headers = { Accept: 'application/json' };
    var body;
    if (opts.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.json);
    }
    if (opts.bearer) headers.Authorization = 'Bearer ' + opts.bearer;

    var tokenP;
    if (opts.reader === 'required') tokenP = self.reader();
    else if (opts.reader === 'want') tokenP = self.reader().catch(function () { return null; });
    else if (opts.reader === 'optional') tokenP = Promise.resolve(store.get(READER_KEY));
    else tokenP = Promise.resolve(null);

    return tokenP.then(function (token) {
      if (token) headers['X-Reader-Token'] = token;
      return self.raw(method, path, headers, body).then(function (r) {
        if (r.status !== 401 || !token) return r;
        return self.reader(token).then(function (fresh) {
          headers['X-Reader-Token'] = fresh;
          return self.raw(method, path, headers, body);
        }, function () { return r; });
      });
    }, function (failure) {
      if (failure && typeof failure.status === 'number') return failure;
      return { ok: false, status: 0, data: null, error: { code: 'network', message: String(failure) }, retryAfter: null };
    });
  };

  var clients = new Map();
  function clientFor(base) {
    if (!clients.has(base)) clients.set(base, new Client(base));
    return clients.get(base);
  }

  /* ------------------------------------------------------------------ */
  /* Configuration, texts, dates                                          */
  /* ------------------------------------------------------------------ */

  function pickLocale(el) {
    var tries = [el.getAttribute('data-parley-lang'), document.documentElement.getAttribute('lang'), navigator.language, 'en'];
    for (var i = 0; i < tries.length; i++) {
      if (!tries[i]) continue;
      try { return Intl.getCanonicalLocales(tries[i])[0]; } catch (e) { /* invalid tag */ }
    }
    return 'en';
  }

  function configFor(el) {
    var site = (el.getAttribute('data-parley-site') || '').trim();
    var article = (el.getAttribute('data-parley-article') || '').trim();
    if (!site || !ARTICLE_RE.test(article)) {
      if (window.console) console.warn('[parley] data-parley-site and a valid data-parley-article ([A-Za-z0-9._~-], 1-200 chars) are required', el);
      return null;
    }
    var base = el.getAttribute('data-parley-api') ? normalizeBase(el.getAttribute('data-parley-api')) : DEFAULT_BASE;
    if (!base) {
      if (window.console) console.warn('[parley] invalid data-parley-api', el);
      return null;
    }
    var locale = pickLocale(el);
    var capLang = (el.getAttribute('data-parley-captcha-lang') || locale.split('-')[0] || 'en').toLowerCase();
    if (CAPTCHA_LANGS.indexOf(capLang) < 0) capLang = 'en';
    var windowSec = parseInt(el.getAttribute('data-parley-edit-window') || '', 10);
    var theme = el.getAttribute('data-parley-theme');
    var sort = store.get(SORT_KEY) || el.getAttribute('data-parley-sort');
    var lang = locale.split('-')[0].toLowerCase();
    if (!Object.prototype.hasOwnProperty.call(LANGS, lang)) lang = 'en';
    var texts = TEXT;
    var plural;
    try { plural = new Intl.PluralRules(locale); } catch (e) { plural = new Intl.PluralRules('en'); }
    var mode = (el.getAttribute('data-parley-mode') || 'full').toLowerCase();

    function t(key, vars) {
      var s = el.getAttribute('data-parley-text-' + key);
      if (s === null) s = texts[key];
      if (s === undefined || s === null) s = key;
      if (vars) {
        s = s.replace(/\{(\w+)\}/g, function (m, k) {
          return Object.prototype.hasOwnProperty.call(vars, k) ? String(vars[k]) : m;
        });
      }
      return s;
    }
    // tn picks the plural form: key-one, key-few, …, falling back to key-other.
    function tn(key, n, vars) {
      var cat = plural.select(n);
      var full = key + '-' + cat;
      if (el.getAttribute('data-parley-text-' + full) === null && !texts[full]) full = key + '-other';
      var v = vars || {};
      if (v.n === undefined) v.n = num(n);
      return t(full, v);
    }
    var numFmt;
    try { numFmt = new Intl.NumberFormat(locale); } catch (e) { numFmt = new Intl.NumberFormat('en'); }
    function num(n) { return numFmt.format(n); }

    return {
      site: site,
      article: article,
      base: base,
      client: clientFor(base),
      mode: ['count', 'reactions', 'comments'].indexOf(mode) >= 0 ? mode : 'full',
      locale: locale,
      lang: lang,
      dir: RTL.indexOf(lang) >= 0 ? 'rtl' : 'ltr',
      // setTexts puts a translation under the English texts, which fill
      // any key it lacks.
      setTexts: function (tr) {
        if (tr && typeof tr === 'object') texts = Object.assign({}, TEXT, tr);
      },
      // label is a reaction's text: the page's, the site's, ours, its name.
      label: function (r) {
        var s = el.getAttribute('data-parley-text-' + r.name);
        return s !== null ? s : r.label || (r.name === 'like' || r.name === 'dislike' ? texts[r.name] : r.name);
      },
      captchaLang: capLang,
      editWindow: windowSec > 0 ? windowSec : 900,
      theme: theme === 'dark' || theme === 'auto' ? theme : 'light',
      sort: SORTS.indexOf(sort) >= 0 ? sort : 'oldest',
      t: t,
      tn: tn,
      num: num
    };
  }

  function Dates(locale) {
    try { this.abs = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }); }
    catch (e) { this.abs = new Intl.DateTimeFormat('en', { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }); }
    try { this.day = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' }); } catch (e) { this.day = this.abs; }
    try { this.rel = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' }); } catch (e) { this.rel = null; }
  }
  Dates.prototype.absolute = function (d) { return this.abs.format(d); };
  Dates.prototype.relative = function (d) {
    var sec = Math.round((d.getTime() - Date.now()) / 1000);
    var a = Math.abs(sec);
    if (!this.rel || a >= 7 * 86400) return this.day.format(d);
    if (a < 45) return this.rel.format(0, 'second');
    if (a < 3600) return this.rel.format(Math.round(sec / 60), 'minute');
    if (a < 86400) return this.rel.format(Math.round(sec / 3600), 'hour');
    return this.rel.format(Math.round(sec / 86400), 'day');
  };

  /* ------------------------------------------------------------------ */
  /* Styles                                                               */
  /* ------------------------------------------------------------------ */

  var FONT = 'var(--parley-font, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", sans-serif)';

  var BASE_CSS = [
    '[hidden] { display: none !important; }',
    '.parley-sr { position: absolute !important; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0; overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; }'
  ].join('\n');

  var FULL_CSS = [
    ':host { all: initial !important; display: block !important; }',
    ':host([hidden]) { display: none !important; }',
    BASE_CSS,
    '.parley-root { all: initial; display: block; box-sizing: border-box; width: 100%; max-width: 100%; margin: 0; padding: 0;',
    '  container-type: inline-size;',
    '  --p-fg: #1c1c1c; --p-muted: #5e5e5e; --p-line: #dedede; --p-strong-line: #1c1c1c; --p-soft: #f3f3f1;',
    '  --p-bg: var(--parley-bg, #ffffff); --p-field: #ffffff; --p-field-line: #a9a9a9;',
    '  --p-accent: var(--parley-accent, #0b5cad); --p-on-accent: #ffffff; --p-focus: var(--parley-focus, #0b5cad);',
    '  --p-danger: #b3261e; --p-ok: #1d6b35; --p-note-bg: #fff4d6; --p-note-fg: #5c4300; --p-up: #0b5cad; --p-down: #a1331b;',
    '  background: var(--p-bg); color: var(--p-fg); font-family: ' + FONT + ';',
    '  font-size: 16px; line-height: 1.5; font-weight: 400; text-align: start; letter-spacing: normal; word-spacing: normal;',
    '  text-transform: none; text-indent: 0; text-shadow: none; -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }',
    '.parley-root[data-theme="dark"] { --p-fg: #ececec; --p-muted: #ababab; --p-line: #3b3b3b; --p-strong-line: #ececec; --p-soft: #262626;',
    '  --p-bg: var(--parley-bg, #161616); --p-field: #1f1f1f; --p-field-line: #6b6b6b; --p-accent: var(--parley-accent, #6ea8fe); --p-on-accent: #0b0b0b;',
    '  --p-focus: var(--parley-focus, #8fbaff); --p-danger: #ff8a80; --p-ok: #7ed49a; --p-note-bg: #3d3213; --p-note-fg: #ffe3a3; --p-up: #8fbaff; --p-down: #ffab91; }',
    '@media (prefers-color-scheme: dark) {',
    '  .parley-root[data-theme="auto"] { --p-fg: #ececec; --p-muted: #ababab; --p-line: #3b3b3b; --p-strong-line: #ececec; --p-soft: #262626;',
    '    --p-bg: var(--parley-bg, #161616); --p-field: #1f1f1f; --p-field-line: #6b6b6b; --p-accent: var(--parley-accent, #6ea8fe); --p-on-accent: #0b0b0b;',
    '    --p-focus: var(--parley-focus, #8fbaff); --p-danger: #ff8a80; --p-ok: #7ed49a; --p-note-bg: #3d3213; --p-note-fg: #ffe3a3; --p-up: #8fbaff; --p-down: #ffab91; }',
    '}',
    '.parley-root *, .parley-root *::before, .parley-root *::after { box-sizing: border-box; }',
    // Zero specificity, so every class rule below wins over this reset.
    ':where(.parley-root) :where(p, h2, h3, ul, li, form, section, article, figure) { margin: 0; padding: 0; }',
    '.parley-root :focus { outline: none; }',
    '.parley-root :focus-visible { outline: 3px solid var(--p-focus); outline-offset: 2px; border-radius: 3px; }',
    '.parley-root .parley-input:focus-visible, .parley-root .parley-input:focus { outline: 3px solid var(--p-focus); outline-offset: 0; border-color: var(--p-focus); }',
    '.parley-root [tabindex="-1"]:focus { outline: none; }',

    /* reactions */
    '.parley-reactions { display: flex; flex-wrap: wrap; align-items: center; gap: 10px 18px; padding: 14px 0 16px; margin: 0 0 28px;',
    '  border-top: 3px solid var(--p-strong-line); border-bottom: 1px solid var(--p-line); }',
    '.parley-question { font-size: 17px; font-weight: 700; line-height: 1.3; }',
    '.parley-root[data-mode="reactions"] .parley-reactions { margin: 0; }',
    '.parley-reaction-buttons { display: flex; flex-wrap: wrap; gap: 8px; min-height: 38px; }',
    '.parley-emoji { font-size: 18px; line-height: 1; }',

    /* buttons */
    '.parley-btn { -webkit-appearance: none; appearance: none; display: inline-flex; align-items: center; justify-content: center; gap: 7px;',
    '  margin: 0; min-height: 38px; padding: 7px 15px; border: 1px solid var(--p-field-line); border-radius: 999px; background: var(--p-bg); color: var(--p-fg);',
    '  font-family: inherit; font-size: 15px; font-weight: 600; line-height: 1.2; text-decoration: none; text-transform: none; letter-spacing: normal;',
    '  cursor: pointer; box-shadow: none; width: auto; height: auto; vertical-align: middle; white-space: nowrap; }',
    '.parley-btn:hover { background: var(--p-soft); }',
    '.parley-btn[aria-pressed="true"] { background: var(--p-accent); border-color: var(--p-accent); color: var(--p-on-accent); }',
    '.parley-btn:disabled, .parley-btn[aria-disabled="true"] { opacity: .55; cursor: default; }',
    '.parley-btn--primary { background: var(--p-accent); border-color: var(--p-accent); color: var(--p-on-accent); border-radius: 4px; padding: 8px 20px; }',
    '.parley-btn--primary:hover { background: var(--p-accent); filter: brightness(1.1); }',
    '.parley-btn--quiet { border-radius: 4px; }',
    '.parley-btn--small { min-height: 32px; padding: 5px 11px; font-size: 14px; border-radius: 4px; }',
    '.parley-icon { display: inline-block; flex: none; width: 18px; height: 18px; vertical-align: -3px; overflow: visible; }',
    '.parley-btn--small .parley-icon { width: 16px; height: 16px; }',
    '.parley-btn[aria-pressed="true"] .parley-icon path { fill: currentColor; fill-opacity: .3; }',
    '.parley-btn-label { display: inline; margin: 0; }',
    '.parley-num { font-variant-numeric: tabular-nums; font-weight: 700; min-width: 1ch; }',
    '.parley-link { -webkit-appearance: none; appearance: none; display: inline-flex; align-items: center; margin: 0; min-height: 32px; padding: 4px 8px;',
    '  border: 0; border-radius: 4px; background: transparent; color: var(--p-muted); font-family: inherit; font-size: 14px; font-weight: 600;',
    '  line-height: 1.2; text-decoration: none; text-transform: none; cursor: pointer; box-shadow: none; width: auto; height: auto; }',
    '.parley-link:hover { color: var(--p-fg); background: var(--p-soft); }',
    '.parley-link[aria-expanded="true"] { color: var(--p-fg); background: var(--p-soft); }',
    '.parley-link--danger:hover { color: var(--p-danger); }',

    /* heading, toolbar, status */
    '.parley-head { display: flex; flex-wrap: wrap; align-items: baseline; justify-content: space-between; gap: 8px 16px; margin: 0 0 14px; }',
    '.parley-count { font-size: 21px; font-weight: 800; line-height: 1.25; letter-spacing: -.01em; }',
    '.parley-toolbar { display: flex; flex-wrap: wrap; align-items: center; justify-content: flex-end; gap: 8px; margin: 22px 0 6px; font-size: 14px; color: var(--p-muted); }',
    '.parley-toolbar label { font-weight: 600; }',
    '.parley-select { -webkit-appearance: auto; appearance: auto; margin: 0; min-height: 34px; padding: 4px 8px; border: 1px solid var(--p-field-line); border-radius: 4px;',
    '  background: var(--p-field); color: var(--p-fg); font-family: inherit; font-size: 14px; width: auto; }',
    '.parley-message { margin: 10px 0; font-size: 15px; color: var(--p-muted); }',
    '.parley-message--error { color: var(--p-danger); }',
    '.parley-closed { margin: 0 0 8px; padding: 12px 14px; background: var(--p-soft); border-radius: 4px; font-weight: 600; }',

    /* form */
    '.parley-form { display: block; padding: 16px; margin: 0; background: var(--p-soft); border-radius: 6px; }',
    '.parley-form--reply { margin: 10px 0 4px; border-inline-start: 3px solid var(--p-accent); }',
    '.parley-form-title { font-size: 16px; font-weight: 700; margin: 0 0 12px; }',
    '.parley-row { display: flex; flex-wrap: wrap; gap: 0 14px; }',
    '.parley-row > .parley-field { flex: 1 1 220px; min-width: 0; }',
    '.parley-field { display: block; margin: 0 0 12px; }',
    '.parley-notify { display: flex; gap: 6px; align-items: center; margin: 0 0 12px; }',
    '.parley-notify[hidden] { display: none; }',
    '.parley-label { display: block; margin: 0 0 4px; font-size: 14px; font-weight: 700; color: var(--p-fg); cursor: default; }',
    '.parley-hint { font-weight: 400; color: var(--p-muted); }',
    '.parley-input { -webkit-appearance: none; appearance: none; display: block; width: 100%; max-width: 100%; margin: 0; padding: 8px 10px;',
    '  border: 1px solid var(--p-field-line); border-radius: 4px; background: var(--p-field); color: var(--p-fg); box-shadow: none;',
    '  font-family: inherit; font-size: 16px; line-height: 1.4; height: auto; min-height: 40px; text-transform: none; letter-spacing: normal; }',
    'textarea.parley-input { min-height: 120px; resize: vertical; line-height: 1.5; white-space: pre-wrap; }',
    '.parley-input[aria-invalid="true"] { border-color: var(--p-danger); box-shadow: inset 0 0 0 1px var(--p-danger); }',
    '.parley-counter { margin: 4px 0 0; font-size: 13px; color: var(--p-muted); text-align: end; font-variant-numeric: tabular-nums; }',
    '.parley-counter--over { color: var(--p-danger); font-weight: 700; }',
    '.parley-error { display: block; margin: 5px 0 0; font-size: 14px; font-weight: 600; color: var(--p-danger); }',
    '.parley-captcha { display: flex; flex-wrap: wrap; align-items: flex-end; gap: 10px 14px; margin: 0 0 12px; }',
    '.parley-captcha-figure { display: flex; flex-direction: column; gap: 6px; margin: 0; }',
    '.parley-captcha-box { display: block; width: 240px; max-width: 100%; aspect-ratio: 3 / 1; background: #ffffff;',
    '  border: 1px solid var(--p-field-line); border-radius: 4px; overflow: hidden; }',
    '.parley-captcha-img { display: block; width: 100%; height: 100%; }',
    '.parley-captcha-tools { display: flex; flex-wrap: wrap; gap: 6px; }',
    '.parley-captcha-answer { flex: 1 1 160px; min-width: 0; max-width: 260px; margin: 0; }',
    '.parley-captcha-state { font-size: 13px; color: var(--p-muted); min-height: 1em; }',
    '.parley-form-actions { display: flex; flex-wrap: wrap; align-items: center; gap: 10px; margin: 4px 0 0; }',
    '.parley-form-message { flex: 1 1 200px; font-size: 14px; font-weight: 600; color: var(--p-ok); }',
    '.parley-form-message--error { color: var(--p-danger); }',

    /* comments */
    '.parley-comments, .parley-replies { display: block; list-style: none; margin: 0; padding: 0; }',
    '.parley-comment { display: block; list-style: none; margin: 0; padding: 16px 0 0; border-top: 1px solid var(--p-line); }',
    '.parley-comments > .parley-comment:first-child { border-top: 0; }',
    '.parley-comment-main { display: block; padding: 0 0 12px; }',
    '.parley-replies { margin: 0; margin-inline-start: 18px; padding: 0; padding-inline-start: 14px; border-inline-start: 2px solid var(--p-line); }',
    '.parley-replies > .parley-comment { border-top: 0; padding-top: 8px; }',
    '.parley-replies .parley-replies .parley-replies .parley-replies { margin-inline-start: 0; padding-inline-start: 10px; }',
    '@container (max-width: 520px) { .parley-replies { margin-inline-start: 6px; padding-inline-start: 10px; } .parley-reactions { gap: 10px; } }',
    '.parley-comment-head { display: flex; flex-wrap: wrap; align-items: baseline; gap: 2px 8px; font-size: 14px; line-height: 1.4; }',
    '.parley-author { font-weight: 700; font-size: 15px; color: var(--p-fg); overflow-wrap: anywhere; }',
    '.parley-time, .parley-edited, .parley-hint-reply { color: var(--p-muted); font-size: 13px; }',
    '.parley-you { font-size: 12px; font-weight: 700; color: var(--p-accent); text-transform: uppercase; letter-spacing: .04em; }',
    '.parley-notice { display: inline-block; margin: 6px 0 0; padding: 3px 8px; border-radius: 4px; background: var(--p-note-bg); color: var(--p-note-fg); font-size: 13px; font-weight: 600; }',
    '.parley-comment-body { display: block; margin: 6px 0 8px; white-space: pre-wrap; overflow-wrap: anywhere; word-break: break-word;',
    '  font-size: 16px; line-height: 1.55; color: var(--p-fg); }',
    '.parley-deleted { font-style: italic; color: var(--p-muted); }',
    '.parley-comment--pending > .parley-comment-main > .parley-comment-body { color: var(--p-muted); }',
    '.parley-actions { display: flex; flex-wrap: wrap; align-items: center; gap: 2px 4px; margin: 0; margin-inline-start: -6px; }',
    '.parley-votes { display: inline-flex; align-items: center; gap: 0; margin: 0 6px 0 0; }',
    '.parley-vote { -webkit-appearance: none; appearance: none; display: inline-flex; align-items: center; justify-content: center; width: 32px; height: 32px;',
    '  margin: 0; padding: 0; border: 0; border-radius: 50%; background: transparent; color: var(--p-muted); font-family: inherit; font-size: 13px;',
    '  line-height: 1; cursor: pointer; box-shadow: none; }',
    '.parley-vote:hover { background: var(--p-soft); color: var(--p-fg); }',
    '.parley-upvote[aria-pressed="true"] { color: var(--p-up); background: var(--p-soft); }',
    '.parley-downvote[aria-pressed="true"] { color: var(--p-down); background: var(--p-soft); }',
    '.parley-score { min-width: 2.2ch; text-align: center; font-size: 14px; font-weight: 700; font-variant-numeric: tabular-nums; }',
    '.parley-reported { font-size: 13px; color: var(--p-ok); font-weight: 600; padding: 0 8px; }',
    '.parley-comment-message { margin: 6px 0 0; font-size: 14px; font-weight: 600; color: var(--p-danger); }',
    '.parley-panel { display: block; margin: 8px 0 4px; padding: 12px; background: var(--p-soft); border-radius: 6px; }',
    '.parley-panel-title { margin: 0 0 8px; font-size: 14px; font-weight: 700; }',
    '.parley-panel-row { display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: flex-end; }',
    '.parley-panel-row > .parley-field { flex: 1 1 180px; margin: 0; min-width: 0; }',
    '.parley-panel-actions { display: flex; flex-wrap: wrap; gap: 8px; margin: 10px 0 0; }',
    '.parley-confirm { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; margin: 8px 0 4px; font-size: 14px; font-weight: 600; }',
    '.parley-load-more { margin: 18px 0 0; width: 100%; border-radius: 4px; }',
    '.parley-comment:focus { outline: none; }',
    '.parley-comment--target > .parley-comment-main { background: var(--p-soft); box-shadow: -8px 0 0 var(--p-soft), 8px 0 0 var(--p-soft); border-left: 3px solid var(--p-focus); padding-left: 8px; }',
    '.parley-comment:focus-visible > .parley-comment-main { outline: 3px solid var(--p-focus); outline-offset: 2px; }'
  ].join('\n');

  var COUNT_CSS = [
    ':host { all: initial !important; display: inline !important; }',
    ':host([hidden]) { display: none !important; }',
    BASE_CSS,
    '.parley-count-line { all: initial; display: inline; white-space: nowrap; font-family: ' + FONT + ';',
    '  font-size: var(--parley-count-size, 14px); line-height: 1.4; color: var(--parley-count-color, #555555); font-variant-numeric: tabular-nums; }',
    '.parley-count-line span { all: unset; }',
    '.parley-count-line .parley-icon { display: inline-block; width: 1.05em; height: 1.05em; vertical-align: -0.18em; margin: 0 .2em 0 0; overflow: visible; }',
    '.parley-count-line .parley-item { display: inline; margin: 0 .7em 0 0; }',
    '.parley-count-line .parley-item:last-of-type { margin: 0; }',
    '.parley-count-line .parley-emoji { margin: 0 .2em 0 0; }',
    '.parley-count-line .parley-sr { position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; }'
  ].join('\n');

  /* ------------------------------------------------------------------ */
  /* Messages for API errors                                              */
  /* ------------------------------------------------------------------ */

  function errorText(cfg, r, fallbackKey) {
    if (!r || !r.error) return cfg.t(fallbackKey || 'error');
    if (r.status === 0) return cfg.t('network-error');
    if (r.error.code === 'rate_limited' || r.status === 429) return cfg.t('slow-down');
    if (r.error.code === 'edit_window_closed') return cfg.t('edit-window-closed');
    if (r.error.code === 'comments_closed') return cfg.t('closed');
    return r.error.message || cfg.t(fallbackKey || 'error');
  }

  /* ------------------------------------------------------------------ */
  /* One article's reactions, shared by its placements on the page        */
  /* ------------------------------------------------------------------ */

  var reactionStates = new Map();
  function reactionsOf(cfg) {
    var k = cfg.base + '\n' + cfg.site + '\n' + cfg.article;
    if (!reactionStates.has(k)) reactionStates.set(k, new Reactions(cfg));
    return reactionStates.get(k);
  }

  function Reactions(cfg) {
    this.cfg = cfg;
    this.set = null;     // [{name, label, icon}] in the site's order
    this.counts = {};
    this.mine = null;
    this.seq = 0;
    this.views = [];
    this.badges = []; // count badges of the article, kept in step too
    this.loading = false;
  }

  Reactions.prototype.path = function () {
    return '/api/v1/sites/' + enc(this.cfg.site) + '/articles/' + enc(this.cfg.article) + '/reactions';
  };

  Reactions.prototype.watch = function (view) {
    this.views.push(view);
    if (this.set) view.renderReactions();
    else this.load();
  };

  Reactions.prototype.load = function () {
    var self = this;
    if (this.loading) return;
    this.loading = true;
    var seq = this.seq;
    this.cfg.client.send('GET', this.path(), { reader: 'optional' }).then(function (r) {
      self.loading = false;
      if (seq !== self.seq) return; // the reader clicked meanwhile; that answer wins
      if (r.ok && r.data) self.apply(r.data);
    });
  };

  Reactions.prototype.apply = function (data) {
    var counts = data.counts || {};
    if (Array.isArray(data.reactions)) {
      this.set = data.reactions.filter(function (r) { return r && typeof r.name === 'string'; });
    } else if (!this.set) {
      this.set = Object.keys(counts).map(function (n) { return { name: n, label: '', icon: n }; });
    }
    this.counts = {};
    for (var k in counts) this.counts[k] = Number(counts[k]) || 0;
    this.mine = typeof data.mine === 'string' ? data.mine : null;
    this.render();
  };

  Reactions.prototype.render = function () {
    this.views = this.views.filter(function (v) { return v.host.isConnected; });
    this.views.forEach(function (v) { v.renderReactions(); });
    var self = this;
    this.badges.forEach(function (b) { b.setReactions(self.set, self.counts); });
  };

  // react shows the reader's choice in every placement at once, then what
  // the server answers; on failure the previous state comes back.
  Reactions.prototype.react = function (name, view) {
    var self = this;
    var prev = { counts: Object.assign({}, this.counts), mine: this.mine };
    if (this.mine) this.counts[this.mine] = Math.max(0, (this.counts[this.mine] || 0) - 1);
    if (this.mine === name) {
      this.mine = null;
    } else {
      this.counts[name] = (this.counts[name] || 0) + 1;
      this.mine = name;
    }
    this.render();
    var seq = ++this.seq;
    var client = this.cfg.client;
    var req = this.mine
      ? client.send('PUT', this.path() + '/mine', { reader: 'required', json: { reaction: name } })
      : client.send('DELETE', this.path() + '/mine', { reader: 'required' });
    req.then(function (r) {
      if (seq !== self.seq) return; // a later click is in flight; its answer decides
      if (r.ok && r.data) {
        self.apply(r.data);
        return;
      }
      self.counts = prev.counts;
      self.mine = prev.mine;
      self.render();
      view.announce(r.status === 429 ? view.t('slow-down') : view.t('reaction-error'));
      self.load();
    });
  };

  /* ------------------------------------------------------------------ */
  /* The full widget                                                      */
  /* ------------------------------------------------------------------ */

  function Widget(host, cfg) {
    this.host = host;
    this.cfg = cfg;
    this.t = cfg.t;
    this.client = cfg.client;
    this.dates = new Dates(cfg.locale);
    this.comments = new Map();   // id -> entry
    this.waiting = new Map();    // parent id -> [child ids] shown at top level meanwhile
    this.sort = cfg.sort;
    this.cursor = null;
    this.total = 0;
    this.loadSeq = 0;
    this.loadingMore = false;
    this.reactions = cfg.mode === 'comments' ? null : reactionsOf(cfg);
    this.drawnSet = '';
    this.closed = false;
    this.replyForm = null;
    this.pendingKey = PENDING_PREFIX + cfg.site + '/' + cfg.article;
    this.root = host.attachShadow({ mode: 'open' });
    this.build();
    if (this.reactions) this.reactions.watch(this);
    if (cfg.mode === 'reactions') return;
    this.loadComments(true);
    var self = this;
    this.timer = setInterval(function () { self.tick(); }, 60000);
    window.addEventListener('hashchange', function () { self.seekComment(); });
  }

  Widget.prototype.path = function (suffix) {
    return '/api/v1/sites/' + enc(this.cfg.site) + '/articles/' + enc(this.cfg.article) + suffix;
  };

  Widget.prototype.build = function () {
    var t = this.t;
    var self = this;
    var style = document.createElement('style');
    style.textContent = FULL_CSS;

    var qid = uid('question');
    this.reactionButtons = h('div', { class: 'parley-reaction-buttons', role: 'group', 'aria-labelledby': qid });
    var reactions = this.reactions && h('section', { class: 'parley-reactions', 'aria-labelledby': qid },
      h('p', { class: 'parley-question', id: qid }, t('question')), this.reactionButtons);

    var countId = uid('count');
    this.countEl = h('h2', { class: 'parley-count', id: countId }, this.cfg.tn('comments', 0));
    this.status = h('div', { class: 'parley-status parley-sr', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });

    this.formSlot = h('div', { class: 'parley-form-slot' });
    this.mainForm = new CommentForm(this, null);
    this.formSlot.appendChild(this.mainForm.el);

    var sortId = uid('sort');
    this.sortSelect = h('select', { class: 'parley-select parley-sort', id: sortId, name: 'sort', onchange: function () { self.onSort(self.sortSelect.value); } },
      SORTS.map(function (s) { return h('option', { value: s, selected: s === self.sort }, t('sort-' + s)); }));
    var toolbar = h('div', { class: 'parley-toolbar' }, h('label', { for: sortId }, t('sort')), this.sortSelect);

    this.listMsg = h('p', { class: 'parley-message', hidden: true });
    this.list = h('ul', { class: 'parley-comments', 'aria-labelledby': countId });
    this.loadMoreBtn = h('button', { type: 'button', class: 'parley-btn parley-btn--quiet parley-load-more', hidden: true, onclick: function () { self.loadComments(false); } }, t('load-more'));

    var comments = this.cfg.mode !== 'reactions' && h('section', { class: 'parley-discussion', 'aria-labelledby': countId },
      h('div', { class: 'parley-head' }, this.countEl), this.formSlot, toolbar, this.listMsg, this.list, this.loadMoreBtn);

    this.wrap = h('div', { class: 'parley-root', 'data-theme': this.cfg.theme, 'data-mode': this.cfg.mode, lang: this.cfg.locale, dir: this.cfg.dir }, reactions, comments, this.status);
    this.root.appendChild(style);
    this.root.appendChild(this.wrap);
  };

  Widget.prototype.announce = function (msg) {
    var status = this.status;
    status.textContent = '';
    setTimeout(function () { status.textContent = msg; }, 60);
  };

  Widget.prototype.tick = function () {
    if (!this.host.isConnected) { clearInterval(this.timer); this.timer = null; return; }
    var dates = this.dates;
    this.wrap.querySelectorAll('time[data-parley-rel]').forEach(function (el) {
      var d = new Date(el.getAttribute('datetime'));
      if (!isNaN(d.getTime())) el.textContent = dates.relative(d);
    });
  };

  /* ---- reactions ---- */

  // renderReactions draws the shared state of this article's reactions;
  // the buttons are made again only when the site's set changes.
  Widget.prototype.renderReactions = function () {
    var self = this;
    var st = this.reactions;
    if (!st.set) return;
    var sig = JSON.stringify(st.set);
    if (sig !== this.drawnSet) {
      this.drawnSet = sig;
      clear(this.reactionButtons);
      this.reactButtons = st.set.map(function (r) {
        var n = h('span', { class: 'parley-num' }, '0');
        var b = h('button', { type: 'button', class: 'parley-btn parley-react', 'data-reaction': r.name, 'aria-pressed': 'false', onclick: function () { st.react(r.name, self); } },
          reactionIcon(r.icon), h('span', { class: 'parley-btn-label' }, self.cfg.label(r)), n);
        b.num = n;
        self.reactionButtons.appendChild(b);
        return b;
      });
    }
    this.reactButtons.forEach(function (b) {
      var name = b.getAttribute('data-reaction');
      b.num.textContent = self.cfg.num(st.counts[name] || 0);
      b.setAttribute('aria-pressed', String(st.mine === name));
    });
  };

  /* ---- comment list ---- */

  Widget.prototype.setTotal = function (n) {
    this.total = Math.max(0, n);
    this.countEl.textContent = this.cfg.tn('comments', this.total);
  };

  Widget.prototype.onSort = function (sort) {
    if (SORTS.indexOf(sort) < 0) return;
    this.sort = sort;
    store.set(SORT_KEY, sort);
    this.loadComments(true);
  };

  Widget.prototype.showListMessage = function (text, isError, retry) {
    var self = this;
    clear(this.listMsg);
    this.listMsg.className = 'parley-message' + (isError ? ' parley-message--error' : '');
    if (!text) { this.listMsg.hidden = true; return; }
    this.listMsg.hidden = false;
    add(this.listMsg, text);
    if (retry) {
      add(this.listMsg, ' ');
      add(this.listMsg, h('button', { type: 'button', class: 'parley-btn parley-btn--small parley-retry', onclick: function () { self.loadComments(retry === 'reset'); } }, this.t('retry')));
    }
  };

  Widget.prototype.updateEmpty = function () {
    if (this.list.children.length === 0) this.showListMessage(this.t('empty'), false);
    else if (!this.listMsg.classList.contains('parley-message--error')) this.showListMessage(null);
  };

  Widget.prototype.loadComments = function (reset) {
    var self = this;
    if (!reset && this.loadingMore) return;
    var seq = ++this.loadSeq;
    // Where focus was when "Load more" was pressed decides where it goes after.
    var hadFocus = !reset && this.root.activeElement === this.loadMoreBtn;
    this.loadingMore = !reset;
    if (reset) {
      this.comments.forEach(function (e) { if (e.editTimer) clearTimeout(e.editTimer); });
      this.comments.clear();
      this.waiting.clear();
      if (this.replyForm) { this.replyForm.destroy(); this.replyForm = null; }
      clear(this.list);
      this.cursor = null;
      this.loadMoreBtn.hidden = true;
      this.showListMessage(this.t('loading'), false);
      this.list.setAttribute('aria-busy', 'true');
    } else {
      // aria-disabled, not disabled: a disabled button would drop the focus.
      this.loadMoreBtn.setAttribute('aria-disabled', 'true');
      this.loadMoreBtn.setAttribute('aria-busy', 'true');
    }
    var q = 'sort=' + enc(this.sort) + '&limit=' + PAGE_SIZE;
    if (!reset && this.cursor) q += '&cursor=' + enc(this.cursor);
    this.client.send('GET', this.path('/comments?' + q), { reader: 'optional' }).then(function (r) {
      if (seq !== self.loadSeq) return;
      self.loadingMore = false;
      self.list.removeAttribute('aria-busy');
      self.loadMoreBtn.removeAttribute('aria-disabled');
      self.loadMoreBtn.removeAttribute('aria-busy');
      if (!r.ok || !r.data) {
        self.showListMessage(self.t('load-error'), true, reset ? 'reset' : 'more');
        return;
      }
      self.showListMessage(null);
      var list = Array.isArray(r.data.comments) ? r.data.comments : [];
      if (typeof r.data.count === 'number') self.setTotal(r.data.count);
      var firstNew = null;
      list.forEach(function (c) {
        if (!c || c.id === undefined || c.id === null) return;
        var isNew = !self.comments.has(String(c.id));
        var entry = self.addComment(c, 'end');
        if (isNew && !firstNew) firstNew = entry;
      });
      self.cursor = r.data.next_cursor || null;
      // The server says whether it sends email: only then is "email me
      // replies" offered.
      self.emailOn = r.data.email_notifications === true;
      if (self.mainForm) self.mainForm.syncNotify();
      if (reset) self.restorePending();
      self.loadMoreBtn.hidden = !self.cursor;
      // Keyboard and screen-reader users go on reading at the first new comment.
      if (hadFocus && firstNew) firstNew.li.focus();
      self.updateEmpty();
      self.seekComment();
    });
  };

  // seekComment shows the comment a link such as a feed entry's names
  // (#parley-comment-ID): the page's own anchor cannot reach into the
  // shadow root, so the widget scrolls there and highlights it, loading
  // more pages (at most 20) while the comment is not on the ones shown.
  Widget.prototype.seekComment = function () {
    var m = /^#parley-comment-(\d+)$/.exec(window.location.hash || '');
    if (!m || this.seenHash === window.location.hash) return;
    var entry = this.comments.get(m[1]);
    if (entry) {
      this.seenHash = window.location.hash;
      var old = this.root.querySelector('.parley-comment--target');
      if (old) old.classList.remove('parley-comment--target');
      entry.li.classList.add('parley-comment--target');
      entry.li.scrollIntoView({ block: 'center' });
      entry.li.focus({ preventScroll: true });
      return;
    }
    if (this.seekFor !== m[1]) { this.seekFor = m[1]; this.seekPages = 0; }
    if (this.cursor && this.seekPages++ < 20) this.loadComments(false);
  };

  // restorePending shows this reader's comments that still await moderation.
  Widget.prototype.restorePending = function () {
    var self = this;
    var list = store.getJSON(this.pendingKey, []);
    if (!Array.isArray(list) || !list.length) return;
    var now = Date.now();
    var keep = list.filter(function (p) {
      if (!p || !p.comment || !(now - (p.saved || 0) < KEEP_MS)) return false;
      var id = String(p.comment.id);
      var shown = self.comments.get(id);
      if (shown && shown.data.status !== 'pending') return false; // published meanwhile
      return true;
    });
    keep.forEach(function (p) {
      if (!self.comments.has(String(p.comment.id))) self.addComment(p.comment, 'start');
    });
    if (keep.length !== list.length) {
      if (keep.length) store.setJSON(this.pendingKey, keep);
      else store.remove(this.pendingKey);
    }
  };

  Widget.prototype.rememberPending = function (comment, forget) {
    var list = store.getJSON(this.pendingKey, []);
    if (!Array.isArray(list)) list = [];
    list = list.filter(function (p) { return p && p.comment && String(p.comment.id) !== String(comment.id); });
    if (!forget) list.push({ comment: comment, saved: Date.now() });
    if (list.length) store.setJSON(this.pendingKey, list.slice(-20));
    else store.remove(this.pendingKey);
  };

  // addComment renders c (or updates it when shown already) and nests it
  // under its parent when the parent is loaded; otherwise it waits at top
  // level, with a hint, until the parent arrives.
  Widget.prototype.addComment = function (c, where) {
    var self = this;
    var id = String(c.id);
    var existing = this.comments.get(id);
    if (existing) {
      var wasPending = existing.data.status === 'pending';
      existing.data = c;
      if (wasPending && c.status !== 'pending') this.rememberPending(c, true);
      this.fill(existing);
      return existing;
    }
    var entry = this.createEntry(c);
    this.comments.set(id, entry);
    var pid = c.parent_id !== null && c.parent_id !== undefined ? String(c.parent_id) : null;
    var parent = pid ? this.comments.get(pid) : null;
    if (parent) {
      this.insertReply(parent, entry);
    } else {
      if (pid) {
        entry.orphan = true;
        if (!this.waiting.has(pid)) this.waiting.set(pid, []);
        this.waiting.get(pid).push(id);
      }
      if (where === 'start') this.list.insertBefore(entry.li, this.list.firstChild);
      else this.list.appendChild(entry.li);
    }
    this.fill(entry);
    var kids = this.waiting.get(id);
    if (kids) {
      this.waiting.delete(id);
      kids.forEach(function (kid) {
        var e = self.comments.get(kid);
        if (!e) return;
        e.orphan = false;
        self.insertReply(entry, e);
        self.fill(e);
      });
    }
    return entry;
  };

  // insertReply keeps replies in conversation order whatever the list's sort.
  Widget.prototype.insertReply = function (parent, entry) {
    var ul = parent.replies;
    var at = Date.parse(entry.data.created_at) || 0;
    var before = null;
    for (var i = 0; i < ul.children.length; i++) {
      var other = this.comments.get(ul.children[i].getAttribute('data-id'));
      if (other && (Date.parse(other.data.created_at) || 0) > at) { before = ul.children[i]; break; }
    }
    ul.insertBefore(entry.li, before);
    ul.hidden = false;
  };

  Widget.prototype.createEntry = function (c) {
    var entry = {
      data: c,
      li: h('li', { class: 'parley-comment', 'data-id': String(c.id), tabindex: '-1' }),
      box: h('article', { class: 'parley-comment-main' }),
      replies: h('ul', { class: 'parley-replies', hidden: true }),
      orphan: false,
      panel: null,
      editTimer: null
    };
    entry.li.appendChild(entry.box);
    entry.li.appendChild(entry.replies);
    return entry;
  };

  Widget.prototype.myEdit = function (entry) {
    var e = getEdit(entry.data.id);
    if (!e) return null;
    var left = e.created + this.cfg.editWindow * 1000 - Date.now();
    return left > 0 ? { token: e.token, left: left } : null;
  };

  // fill (re)draws one comment's own part; its replies stay where they are.
  Widget.prototype.fill = function (entry) {
    var self = this;
    var t = this.t;
    var c = entry.data;
    var box = entry.box;
    var li = entry.li;
    if (entry.editTimer) { clearTimeout(entry.editTimer); entry.editTimer = null; }
    if (entry.panel) this.closePanel(entry);
    entry.up = entry.down = entry.score = entry.replyBtn = entry.reportBtn = entry.illegalBtn = entry.editBtn = entry.deleteBtn = null;
    clear(box);
    var deleted = c.status === 'deleted';
    var pending = c.status === 'pending';
    var mine = getEdit(c.id) !== null;
    li.classList.toggle('parley-comment--deleted', deleted);
    li.classList.toggle('parley-comment--pending', pending);
    li.classList.toggle('parley-comment--mine', mine && !deleted);
    li.setAttribute('data-status', c.status || 'approved');

    if (deleted) {
      box.appendChild(h('p', { class: 'parley-comment-body parley-deleted' }, t('deleted')));
      return;
    }

    var created = new Date(c.created_at);
    var headKids = [h('span', { class: 'parley-author' }, c.author || '')];
    if (!isNaN(created.getTime())) {
      headKids.push(h('time', { class: 'parley-time', datetime: c.created_at, 'data-parley-rel': '', title: this.dates.absolute(created) }, this.dates.relative(created)));
    }
    if (c.edited_at) {
      var ed = new Date(c.edited_at);
      headKids.push(h('span', { class: 'parley-edited', title: isNaN(ed.getTime()) ? null : this.dates.absolute(ed) }, '· ' + t('edited')));
    }
    if (entry.orphan) headKids.push(h('span', { class: 'parley-hint-reply' }, '↳ ' + t('in-reply-to')));
    box.appendChild(h('div', { class: 'parley-comment-head' }, headKids));
    if (pending) box.appendChild(h('p', { class: 'parley-notice' }, t('awaiting')));
    entry.body = h('div', { class: 'parley-comment-body' }, c.body || '');
    box.appendChild(entry.body);

    var actions = h('div', { class: 'parley-actions' });
    if (!pending) {
      var myVote = mapGet(VOTES_KEY, String(c.id)) || 0;
      entry.up = h('button', { type: 'button', class: 'parley-vote parley-upvote', 'aria-label': t('vote-up'), title: t('vote-up'), 'aria-pressed': String(myVote === 1), onclick: function () { self.onVote(entry, 1); } },
        h('span', { 'aria-hidden': 'true' }, '▲'));
      entry.down = h('button', { type: 'button', class: 'parley-vote parley-downvote', 'aria-label': t('vote-down'), title: t('vote-down'), 'aria-pressed': String(myVote === -1), onclick: function () { self.onVote(entry, -1); } },
        h('span', { 'aria-hidden': 'true' }, '▼'));
      entry.score = h('span', { class: 'parley-score' }, this.cfg.num(Number(c.score) || 0));
      actions.appendChild(h('span', { class: 'parley-votes', role: 'group', 'aria-label': t('score') },
        entry.up, h('span', { class: 'parley-sr' }, t('score') + ': '), entry.score, entry.down));
      if (!this.closed) {
        entry.replyBtn = h('button', { type: 'button', class: 'parley-link parley-reply', 'aria-expanded': 'false', onclick: function () { self.toggleReply(entry); } }, t('reply'));
        actions.appendChild(entry.replyBtn);
      }
      if (mapGet(REPORTED_KEY, String(c.id))) {
        actions.appendChild(h('span', { class: 'parley-reported' }, t('reported')));
      } else {
        entry.reportBtn = h('button', { type: 'button', class: 'parley-link parley-report', 'aria-expanded': 'false', onclick: function () { self.toggleReport(entry); } }, t('report'));
        actions.appendChild(entry.reportBtn);
      }
      entry.illegalBtn = h('button', { type: 'button', class: 'parley-link parley-illegal', 'aria-expanded': 'false', onclick: function () { self.toggleIllegal(entry); } }, t('report-illegal'));
      actions.appendChild(entry.illegalBtn);
    }
    var edit = this.myEdit(entry);
    if (edit) {
      entry.editBtn = h('button', { type: 'button', class: 'parley-link parley-edit', 'aria-expanded': 'false', onclick: function () { self.toggleEdit(entry); } }, t('edit'));
      entry.deleteBtn = h('button', { type: 'button', class: 'parley-link parley-link--danger parley-delete', 'aria-expanded': 'false', onclick: function () { self.toggleDelete(entry); } }, t('delete'));
      actions.appendChild(entry.editBtn);
      actions.appendChild(entry.deleteBtn);
      // Hide Edit and Delete when the window closes, unless the reader is mid-edit
      // (the server then answers edit_window_closed, which we show).
      entry.editTimer = setTimeout(function () {
        entry.editTimer = null;
        if (!entry.panel) self.fill(entry);
      }, Math.min(edit.left + 250, 0x7fffffff));
    }
    if (actions.children.length) box.appendChild(actions);
    entry.msg = h('p', { class: 'parley-comment-message', role: 'alert', hidden: true });
    box.appendChild(entry.msg);
    entry.slot = h('div', { class: 'parley-comment-slot' });
    box.appendChild(entry.slot);
  };

  Widget.prototype.commentMessage = function (entry, text) {
    if (!entry.msg) return;
    entry.msg.textContent = text || '';
    entry.msg.hidden = !text;
  };

  // openPanel shows one inline panel (reply, report, edit, delete) under a
  // comment, closing whichever was open; `btn` gets aria-expanded.
  Widget.prototype.openPanel = function (entry, kind, el, btn, onClose) {
    this.closePanel(entry);
    entry.panel = { kind: kind, el: el, btn: btn, onClose: onClose };
    entry.slot.appendChild(el);
    if (btn) btn.setAttribute('aria-expanded', 'true');
  };

  Widget.prototype.closePanel = function (entry, restoreFocus) {
    var p = entry.panel;
    if (!p) return;
    entry.panel = null;
    if (p.onClose) p.onClose();
    if (p.el.parentNode) p.el.parentNode.removeChild(p.el);
    if (p.btn) {
      p.btn.setAttribute('aria-expanded', 'false');
      if (restoreFocus && p.btn.isConnected) p.btn.focus();
    }
  };

  /* ---- votes ---- */

  Widget.prototype.onVote = function (entry, v) {
    var self = this;
    var c = entry.data;
    var id = String(c.id);
    var prevMine = mapGet(VOTES_KEY, id) || 0;
    var prev = { score: Number(c.score) || 0, upvotes: Number(c.upvotes) || 0, downvotes: Number(c.downvotes) || 0, mine: prevMine };
    var mine = prevMine === v ? 0 : v;
    var next = { score: prev.score - prevMine + mine, upvotes: prev.upvotes, downvotes: prev.downvotes, mine: mine };
    if (prevMine === 1) next.upvotes = Math.max(0, next.upvotes - 1);
    if (prevMine === -1) next.downvotes = Math.max(0, next.downvotes - 1);
    if (mine === 1) next.upvotes += 1;
    if (mine === -1) next.downvotes += 1;
    this.applyVote(entry, next);
    entry.voteSeq = (entry.voteSeq || 0) + 1;
    var seq = entry.voteSeq;
    var path = '/api/v1/comments/' + enc(id) + '/vote';
    var req = mine
      ? this.client.send('PUT', path, { reader: 'required', json: { vote: mine } })
      : this.client.send('DELETE', path, { reader: 'required' });
    req.then(function (r) {
      if (seq !== entry.voteSeq) return;
      if (r.ok && r.data) {
        self.applyVote(entry, {
          score: Number(r.data.score) || 0,
          upvotes: Number(r.data.upvotes) || 0,
          downvotes: Number(r.data.downvotes) || 0,
          mine: r.data.mine === 1 || r.data.mine === -1 ? r.data.mine : 0
        });
        return;
      }
      self.applyVote(entry, prev);
      self.announce(r.status === 429 ? self.t('slow-down') : self.t('vote-error'));
    });
  };

  Widget.prototype.applyVote = function (entry, v) {
    entry.data.score = v.score;
    entry.data.upvotes = v.upvotes;
    entry.data.downvotes = v.downvotes;
    mapSet(VOTES_KEY, String(entry.data.id), v.mine || undefined);
    if (!entry.score) return;
    entry.score.textContent = this.cfg.num(v.score);
    entry.up.setAttribute('aria-pressed', String(v.mine === 1));
    entry.down.setAttribute('aria-pressed', String(v.mine === -1));
  };

  /* ---- reply ---- */

  Widget.prototype.toggleReply = function (entry) {
    if (entry.panel && entry.panel.kind === 'reply') { this.closePanel(entry, true); return; }
    if (this.closed) return;
    var self = this;
    if (this.replyForm && this.replyForm.parent && this.replyForm.parent !== entry) {
      this.closePanel(this.replyForm.parent);
    }
    var form = new CommentForm(this, entry);
    this.replyForm = form;
    this.openPanel(entry, 'reply', form.el, entry.replyBtn, function () {
      form.destroy();
      if (self.replyForm === form) self.replyForm = null;
    });
    form.focusFirst();
  };

  /* ---- report ---- */

  Widget.prototype.toggleReport = function (entry) {
    if (entry.panel && entry.panel.kind === 'report') { this.closePanel(entry, true); return; }
    var self = this;
    var t = this.t;
    var titleId = uid('report-title');
    var reasonId = uid('reason');
    var noteId = uid('note');
    var errId = uid('report-error');
    var reason = h('select', { class: 'parley-select parley-input', id: reasonId, name: 'reason' },
      REASONS.map(function (r) { return h('option', { value: r }, t('reason-' + r)); }));
    var note = h('input', { class: 'parley-input', type: 'text', id: noteId, name: 'note', maxlength: '500', autocomplete: 'off' });
    var send = h('button', { type: 'submit', class: 'parley-btn parley-btn--primary parley-btn--small parley-report-submit' }, t('report-send'));
    var err = h('p', { class: 'parley-error', id: errId, role: 'alert', hidden: true });
    var form = h('form', { class: 'parley-panel parley-report-form', 'aria-labelledby': titleId, novalidate: true },
      h('p', { class: 'parley-panel-title', id: titleId }, t('report-title')),
      h('div', { class: 'parley-panel-row' },
        h('div', { class: 'parley-field' }, h('label', { class: 'parley-label', for: reasonId }, t('report-reason')), reason),
        h('div', { class: 'parley-field' }, h('label', { class: 'parley-label', for: noteId }, t('report-note')), note)),
      err,
      h('div', { class: 'parley-panel-actions' }, send,
        h('button', { type: 'button', class: 'parley-btn parley-btn--small parley-cancel', onclick: function () { self.closePanel(entry, true); } }, t('cancel'))));
    form.addEventListener('keydown', function (ev) { if (ev.key === 'Escape') { ev.preventDefault(); self.closePanel(entry, true); } });
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      send.disabled = true;
      err.hidden = true;
      var body = { reason: reason.value };
      if (note.value.trim()) body.note = note.value.trim();
      self.client.send('POST', '/api/v1/comments/' + enc(String(entry.data.id)) + '/reports', { reader: 'required', json: body }).then(function (r) {
        send.disabled = false;
        if (r.ok) {
          mapSet(REPORTED_KEY, String(entry.data.id), 1);
          self.closePanel(entry);
          var done = h('span', { class: 'parley-reported', tabindex: '-1' }, t('reported'));
          if (entry.reportBtn && entry.reportBtn.parentNode) entry.reportBtn.parentNode.replaceChild(done, entry.reportBtn);
          entry.reportBtn = null;
          done.focus();
          self.announce(t('reported'));
          return;
        }
        err.textContent = errorText(self.cfg, r);
        err.hidden = false;
      });
    });
    this.openPanel(entry, 'report', form, entry.reportBtn);
    reason.focus();
  };

  /* ---- notice of illegal content (EU DSA Art. 16) ---- */

  Widget.prototype.toggleIllegal = function (entry) {
    if (entry.panel && entry.panel.kind === 'illegal') { this.closePanel(entry, true); return; }
    var self = this;
    var t = this.t;
    var ids = { title: uid('illegal-title'), cat: uid('category'), expl: uid('explanation'), name: uid('notifier'), email: uid('notifier-email'), faith: uid('good-faith') };
    var category = h('select', { class: 'parley-select parley-input parley-illegal-category', id: ids.cat, name: 'category', required: true });
    var explanation = h('textarea', { class: 'parley-input parley-textarea', id: ids.expl, name: 'explanation', rows: '4', maxlength: '5000', required: true });
    var name = h('input', { class: 'parley-input', type: 'text', id: ids.name, name: 'name', maxlength: '200', autocomplete: 'name', required: true });
    var email = h('input', { class: 'parley-input', type: 'email', id: ids.email, name: 'email', maxlength: '254', autocomplete: 'email', required: true });
    var faith = h('input', { type: 'checkbox', id: ids.faith, name: 'good_faith' });
    var send = h('button', { type: 'submit', class: 'parley-btn parley-btn--primary parley-btn--small parley-illegal-submit' }, t('illegal-send'));
    var err = h('p', { class: 'parley-error', role: 'alert', hidden: true });
    var form = h('form', { class: 'parley-panel parley-illegal-form', 'aria-labelledby': ids.title, novalidate: true },
      h('p', { class: 'parley-panel-title', id: ids.title }, t('illegal-title')),
      h('p', { class: 'parley-hint' }, t('illegal-hint')),
      h('div', { class: 'parley-field' }, h('label', { class: 'parley-label', for: ids.cat }, t('illegal-category')), category),
      h('div', { class: 'parley-field' }, h('label', { class: 'parley-label', for: ids.expl }, t('illegal-explanation')), explanation),
      h('div', { class: 'parley-panel-row' },
        h('div', { class: 'parley-field' }, h('label', { class: 'parley-label', for: ids.name }, t('illegal-name')), name),
        h('div', { class: 'parley-field' }, h('label', { class: 'parley-label', for: ids.email }, t('illegal-email')), email)),
      h('div', { class: 'parley-field' }, h('label', { for: ids.faith }, faith, ' ', t('illegal-good-faith'))),
      err,
      h('div', { class: 'parley-panel-actions' }, send,
        h('button', { type: 'button', class: 'parley-btn parley-btn--small parley-cancel', onclick: function () { self.closePanel(entry, true); } }, t('cancel'))));
    // The categories are the Commission's; the server labels them in
    // English and French.
    self.client.send('GET', '/api/v1/notice-categories?lang=' + (self.cfg.lang === 'fr' ? 'fr' : 'en'), {}).then(function (r) {
      if (!r.ok) return;
      (r.data.categories || []).forEach(function (c) { category.appendChild(h('option', { value: c.id }, c.label)); });
    });
    form.addEventListener('keydown', function (ev) { if (ev.key === 'Escape') { ev.preventDefault(); self.closePanel(entry, true); } });
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      send.disabled = true;
      err.hidden = true;
      var body = { category: category.value, explanation: explanation.value.trim(), name: name.value.trim(), email: email.value.trim(), good_faith: faith.checked };
      self.client.send('POST', '/api/v1/comments/' + enc(String(entry.data.id)) + '/notices', { reader: 'required', json: body }).then(function (r) {
        send.disabled = false;
        if (r.ok) {
          self.closePanel(entry);
          var done = h('span', { class: 'parley-reported parley-illegal-sent', tabindex: '-1' }, t('illegal-sent'));
          if (entry.illegalBtn && entry.illegalBtn.parentNode) entry.illegalBtn.parentNode.replaceChild(done, entry.illegalBtn);
          entry.illegalBtn = null;
          done.focus();
          self.announce(t('illegal-sent'));
          return;
        }
        var fields = r.error && r.error.fields;
        err.textContent = fields ? Object.keys(fields).map(function (k) { return k + ': ' + fields[k]; }).join(' ') : errorText(self.cfg, r);
        err.hidden = false;
      });
    });
    this.openPanel(entry, 'illegal', form, entry.illegalBtn);
    category.focus();
  };

  /* ---- edit and delete ---- */

  Widget.prototype.toggleEdit = function (entry) {
    if (entry.panel && entry.panel.kind === 'edit') { this.closePanel(entry, true); return; }
    var self = this;
    var t = this.t;
    var bodyId = uid('edit-body');
    var counterId = uid('edit-counter');
    var errId = uid('edit-error');
    var area = h('textarea', { class: 'parley-input', id: bodyId, name: 'body', rows: '5', 'aria-describedby': counterId });
    area.value = entry.data.body || '';
    var counter = h('p', { class: 'parley-counter', id: counterId });
    function count() {
      var n = codePoints(area.value);
      counter.textContent = t('counter', { n: self.cfg.num(n), max: self.cfg.num(MAX_BODY) });
      counter.classList.toggle('parley-counter--over', n > MAX_BODY);
    }
    count();
    var err = null;
    function setErr(msg) {
      if (!err) {
        err = h('p', { class: 'parley-error', 'data-field': 'body', id: errId, role: 'alert' });
        counter.parentNode.insertBefore(err, counter.nextSibling);
      }
      err.textContent = msg;
      area.setAttribute('aria-invalid', 'true');
      addToken(area, 'aria-describedby', errId);
    }
    function clearErr() {
      if (err && err.parentNode) err.parentNode.removeChild(err);
      err = null;
      area.removeAttribute('aria-invalid');
      removeToken(area, 'aria-describedby', errId);
    }
    area.addEventListener('input', function () { count(); clearErr(); });
    var save = h('button', { type: 'submit', class: 'parley-btn parley-btn--primary parley-btn--small parley-save' }, t('save'));
    var form = h('form', { class: 'parley-panel parley-edit-form', novalidate: true },
      h('div', { class: 'parley-field' }, h('label', { class: 'parley-label', for: bodyId }, t('edit-label')), area, counter),
      h('div', { class: 'parley-panel-actions' }, save,
        h('button', { type: 'button', class: 'parley-btn parley-btn--small parley-cancel', onclick: function () { self.closePanel(entry, true); } }, t('cancel'))));
    form.addEventListener('keydown', function (ev) { if (ev.key === 'Escape') { ev.preventDefault(); self.closePanel(entry, true); } });
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      clearErr();
      var text = area.value;
      var n = codePoints(text.trim());
      if (!n) { setErr(t('required')); area.focus(); return; }
      if (n > MAX_BODY) { setErr(t('too-long', { max: self.cfg.num(MAX_BODY) })); area.focus(); return; }
      var mine = getEdit(entry.data.id);
      if (!mine) { self.closePanel(entry); self.fill(entry); self.commentMessage(entry, t('not-yours')); return; }
      save.disabled = true;
      self.client.send('PATCH', '/api/v1/comments/' + enc(String(entry.data.id)), { bearer: mine.token, json: { body: text } }).then(function (r) {
        save.disabled = false;
        if (r.ok && r.data && r.data.comment) {
          var wasApproved = entry.data.status !== 'pending';
          var c = r.data.comment;
          entry.data = c;
          if (c.status === 'pending') {
            self.rememberPending(c);
            if (wasApproved) self.setTotal(self.total - 1);
            self.announce(t('awaiting'));
          } else if (!wasApproved) {
            self.rememberPending(c, true);
            self.setTotal(self.total + 1);
          }
          self.fill(entry);
          if (entry.editBtn) entry.editBtn.focus(); else entry.li.focus();
          return;
        }
        if (r.error && r.error.code === 'validation_failed' && r.error.fields && r.error.fields.body) {
          setErr(r.error.fields.body);
          area.focus();
          return;
        }
        if (r.status === 401 || r.status === 403) {
          if (!r.error || r.error.code !== 'rate_limited') store.remove(EDIT_PREFIX + entry.data.id);
          self.fill(entry);
          self.commentMessage(entry, r.error && r.error.code === 'edit_window_closed' ? t('edit-window-closed') : t('not-yours'));
          entry.li.focus();
          return;
        }
        setErr(errorText(self.cfg, r));
      });
    });
    this.openPanel(entry, 'edit', form, entry.editBtn, function () { if (entry.body) entry.body.hidden = false; });
    entry.body.hidden = true;
    area.focus();
  };

  Widget.prototype.toggleDelete = function (entry) {
    if (entry.panel && entry.panel.kind === 'delete') { this.closePanel(entry, true); return; }
    var self = this;
    var t = this.t;
    var yes = h('button', { type: 'button', class: 'parley-btn parley-btn--small parley-delete-confirm' }, t('delete-yes'));
    var box = h('div', { class: 'parley-confirm', role: 'group' },
      h('span', null, t('delete-confirm')), yes,
      h('button', { type: 'button', class: 'parley-btn parley-btn--small parley-cancel', onclick: function () { self.closePanel(entry, true); } }, t('cancel')));
    box.addEventListener('keydown', function (ev) { if (ev.key === 'Escape') { ev.preventDefault(); self.closePanel(entry, true); } });
    yes.addEventListener('click', function () {
      var mine = getEdit(entry.data.id);
      if (!mine) { self.closePanel(entry); self.fill(entry); self.commentMessage(entry, t('not-yours')); return; }
      yes.disabled = true;
      self.client.send('DELETE', '/api/v1/comments/' + enc(String(entry.data.id)), { bearer: mine.token }).then(function (r) {
        yes.disabled = false;
        if (r.ok) {
          var wasApproved = entry.data.status !== 'pending';
          store.remove(EDIT_PREFIX + entry.data.id);
          self.rememberPending(entry.data, true);
          if (wasApproved) self.setTotal(self.total - 1);
          entry.data = { id: entry.data.id, parent_id: entry.data.parent_id, created_at: entry.data.created_at, author: '', body: '', status: 'deleted' };
          self.fill(entry);
          entry.li.focus();
          self.announce(t('deleted'));
          return;
        }
        if (r.status === 401 || r.status === 403) {
          if (!r.error || r.error.code !== 'rate_limited') store.remove(EDIT_PREFIX + entry.data.id);
          self.fill(entry);
          self.commentMessage(entry, r.error && r.error.code === 'edit_window_closed' ? t('edit-window-closed') : t('not-yours'));
          entry.li.focus();
          return;
        }
        self.closePanel(entry, true);
        self.commentMessage(entry, errorText(self.cfg, r));
      });
    });
    this.openPanel(entry, 'delete', box, entry.deleteBtn);
    yes.focus();
  };

  /* ---- posting ---- */

  // posted handles a 201 from either form.
  Widget.prototype.posted = function (data, form) {
    var c = data.comment;
    var t = this.t;
    if (!c || c.id === undefined) return;
    if (data.edit_token) store.setJSON(EDIT_PREFIX + c.id, { token: data.edit_token, created: Date.now() });
    var pending = c.status === 'pending';
    if (pending) this.rememberPending(c);
    if (form.parent) this.closePanel(form.parent);
    // A new top-level comment goes first, right under the form that sent it,
    // whatever the order; the next load puts it in its sorted place.
    var entry = this.addComment(c, 'start');
    if (!pending) this.setTotal(this.total + 1);
    this.updateEmpty();
    var msg = pending ? t('awaiting') : t('published');
    if (data.subscription === 'confirm_sent' || data.subscription === 'confirm_pending') msg += ' ' + t('notify-confirm');
    this.announce(msg);
    if (!form.parent) form.showMessage(msg, false);
    entry.li.scrollIntoView({ block: 'nearest' });
    if (form.parent) entry.li.focus({ preventScroll: true });
  };

  Widget.prototype.setClosed = function () {
    if (this.closed) return;
    this.closed = true;
    var self = this;
    // Redraw without Reply buttons, but leave an open edit, report or
    // delete panel alone: those still work on a closed article.
    this.comments.forEach(function (e) {
      if (e.panel && e.panel.kind === 'reply') self.closePanel(e);
      if (!e.panel) self.fill(e);
    });
    this.mainForm.destroy();
    clear(this.formSlot);
    this.formSlot.appendChild(h('p', { class: 'parley-closed', role: 'status' }, this.t('closed')));
    this.announce(this.t('closed'));
  };

  /* ------------------------------------------------------------------ */
  /* The comment form (main form, and one per open reply)                 */
  /* ------------------------------------------------------------------ */

  function CommentForm(widget, parent) {
    this.w = widget;
    this.parent = parent;
    this.cap = null;
    this.capSeq = 0;
    this.capRetried = false;
    this.busy = false;
    this.fields = {};
    this.audio = null;
    this.observer = null;
    this.build();
  }

  CommentForm.prototype.build = function () {
    var self = this;
    var w = this.w;
    var t = w.t;
    var saved = store.getJSON(AUTHOR_KEY, {}) || {};
    var titleId = uid('form-title');

    function field(name, labelKids, control, extra) {
      var wrap = h('div', { class: 'parley-field parley-field--' + name }, h('label', { class: 'parley-label', for: control.id }, labelKids), control, extra || null);
      self.fields[name] = { input: control, wrap: wrap, errId: uid('err-' + name), err: null, after: extra || control };
      control.addEventListener('input', function () { self.clearError(name); });
      return wrap;
    }

    this.author = h('input', { class: 'parley-input', type: 'text', name: 'author', id: uid('author'), maxlength: String(MAX_AUTHOR), autocomplete: 'name', required: true, 'aria-required': 'true', value: saved.author || '' });
    this.email = h('input', { class: 'parley-input', type: 'email', name: 'email', id: uid('email'), maxlength: '254', autocomplete: 'email', spellcheck: 'false', value: saved.email || '' });
    this.notify = h('input', { type: 'checkbox', name: 'notify_replies', id: uid('notify') });
    this.notifyWrap = h('div', { class: 'parley-notify', hidden: true }, this.notify, h('label', { for: this.notify.id }, t('notify-replies')));
    this.email.addEventListener('input', function () { self.syncNotify(); });
    this.body = h('textarea', { class: 'parley-input', name: 'body', id: uid('body'), rows: this.parent ? '4' : '5', required: true, 'aria-required': 'true' });
    var counterId = uid('counter');
    this.counter = h('p', { class: 'parley-counter', id: counterId, 'aria-live': 'off' });
    this.body.setAttribute('aria-describedby', counterId);
    this.body.addEventListener('input', function () { self.updateCounter(); });

    // The image shows once loaded; until then its box, of the same size,
    // holds the place (a broken-image icon and alt text otherwise).
    this.img = h('img', { class: 'parley-captcha-img', alt: t('captcha-loading'), width: '240', height: '80', decoding: 'async', hidden: true });
    this.img.addEventListener('error', function () { self.onImageError(); });
    this.img.addEventListener('load', function () { self.img.hidden = false; });
    this.capState = h('span', { class: 'parley-captcha-state', 'aria-live': 'polite' });
    this.audioBtn = h('button', { type: 'button', class: 'parley-btn parley-btn--small parley-captcha-audio', disabled: true, onclick: function () { self.playAudio(); } },
      icon('audio'), t('captcha-audio'));
    this.newBtn = h('button', { type: 'button', class: 'parley-btn parley-btn--small parley-captcha-new', onclick: function () { self.loadCaptcha(true); } },
      icon('new'), t('captcha-new'));
    this.solution = h('input', { class: 'parley-input', type: 'text', name: 'captcha_solution', id: uid('captcha'), inputmode: 'numeric', autocomplete: 'off', autocapitalize: 'off', spellcheck: 'false', maxlength: '12', required: true, 'aria-required': 'true' });
    this.submitBtn = h('button', { type: 'submit', class: 'parley-btn parley-btn--primary parley-submit' }, t(this.parent ? 'submit-reply' : 'submit'));
    this.message = h('p', { class: 'parley-form-message', role: 'status', hidden: true });
    this.general = h('p', { class: 'parley-error parley-form-error', 'data-field': '_form', role: 'alert', hidden: true });

    var title = this.parent ? t('reply-title', { author: this.parent.data.author || '' }) : t('form-title');
    var captchaAnswer = field('captcha_solution', t('captcha-label'), this.solution);
    captchaAnswer.className += ' parley-captcha-answer';

    this.el = h('form', { class: 'parley-form' + (this.parent ? ' parley-form--reply' : ''), novalidate: true, 'aria-labelledby': titleId },
      h('h3', { class: 'parley-form-title', id: titleId }, title),
      h('div', { class: 'parley-row' },
        field('author', t('name'), this.author),
        field('email', [t('email') + ' ', h('span', { class: 'parley-hint' }, t('email-hint'))], this.email)),
      this.notifyWrap,
      field('body', t('body'), this.body, this.counter),
      h('div', { class: 'parley-captcha' },
        h('div', { class: 'parley-captcha-figure' }, h('div', { class: 'parley-captcha-box' }, this.img), h('div', { class: 'parley-captcha-tools' }, this.audioBtn, this.newBtn), this.capState),
        captchaAnswer),
      this.general,
      h('div', { class: 'parley-form-actions' }, this.submitBtn,
        this.parent ? h('button', { type: 'button', class: 'parley-btn parley-btn--quiet parley-cancel', onclick: function () { w.closePanel(self.parent, true); } }, t('cancel')) : null,
        this.message));
    if (this.parent) this.el.setAttribute('data-parent-id', String(this.parent.data.id));
    this.el.addEventListener('submit', function (ev) { ev.preventDefault(); self.submit(); });
    if (this.parent) {
      this.el.addEventListener('keydown', function (ev) {
        if (ev.key === 'Escape') { ev.preventDefault(); w.closePanel(self.parent, true); }
      });
    }
    this.updateCounter();
    this.syncNotify();

    // A captcha is a database row on the server: fetch it when the reader
    // comes near the form rather than on every page view.
    this.el.addEventListener('focusin', function () { self.ensureCaptcha(); });
    if (this.parent || typeof IntersectionObserver !== 'function') {
      this.ensureCaptcha();
    } else {
      this.observer = new IntersectionObserver(function (entries) {
        if (entries.some(function (e) { return e.isIntersecting; })) {
          self.observer.disconnect();
          self.observer = null;
          self.ensureCaptcha();
        }
      }, { rootMargin: '300px 0px' });
      this.observer.observe(this.el);
    }
  };

  // syncNotify offers "email me replies" when the server sends email and
  // an address is given: without one there is nowhere to send them.
  CommentForm.prototype.syncNotify = function () {
    var on = !!this.w.emailOn && this.email.value.trim() !== '';
    this.notifyWrap.hidden = !on;
    if (!on) this.notify.checked = false;
  };

  CommentForm.prototype.destroy = function () {
    if (this.observer) { this.observer.disconnect(); this.observer = null; }
    if (this.audio) { try { this.audio.pause(); } catch (e) { /* ignore */ } this.audio = null; }
    this.capSeq += 1;
  };

  CommentForm.prototype.focusFirst = function () {
    (this.author.value ? this.body : this.author).focus();
  };

  CommentForm.prototype.updateCounter = function () {
    var n = codePoints(this.body.value);
    this.counter.textContent = this.w.t('counter', { n: this.w.cfg.num(n), max: this.w.cfg.num(MAX_BODY) });
    this.counter.classList.toggle('parley-counter--over', n > MAX_BODY);
  };

  CommentForm.prototype.showMessage = function (text, isError) {
    this.message.textContent = text || '';
    this.message.hidden = !text;
    this.message.className = 'parley-form-message' + (isError ? ' parley-form-message--error' : '');
  };

  CommentForm.prototype.setError = function (name, text) {
    var f = this.fields[name];
    if (!f) {
      this.general.textContent = this.general.hidden ? text : this.general.textContent + ' ' + text;
      this.general.hidden = false;
      return null;
    }
    if (!f.err) {
      f.err = h('p', { class: 'parley-error', 'data-field': name, id: f.errId });
      f.after.parentNode.insertBefore(f.err, f.after.nextSibling);
    }
    f.err.textContent = text;
    f.input.setAttribute('aria-invalid', 'true');
    addToken(f.input, 'aria-describedby', f.errId);
    return f.input;
  };

  CommentForm.prototype.clearError = function (name) {
    var f = this.fields[name];
    if (!f) return;
    if (f.err && f.err.parentNode) f.err.parentNode.removeChild(f.err);
    f.err = null;
    f.input.removeAttribute('aria-invalid');
    removeToken(f.input, 'aria-describedby', f.errId);
  };

  CommentForm.prototype.clearErrors = function () {
    var self = this;
    Object.keys(this.fields).forEach(function (n) { self.clearError(n); });
    this.general.hidden = true;
    this.general.textContent = '';
    this.showMessage(null);
  };

  /* ---- captcha ---- */

  CommentForm.prototype.ensureCaptcha = function () {
    if (this.loadingCaptcha) return;
    if (this.cap && this.cap.expires > Date.now() + 5000) return;
    this.loadCaptcha(false);
  };

  CommentForm.prototype.loadCaptcha = function (byReader, isRetry) {
    var self = this;
    var w = this.w;
    var seq = ++this.capSeq;
    this.loadingCaptcha = true;
    this.capRetried = !!isRetry;
    this.cap = null;
    this.solution.value = '';
    this.audioBtn.disabled = true;
    this.newBtn.disabled = true;
    this.img.removeAttribute('data-captcha-id');
    this.img.removeAttribute('data-test-solution');
    this.img.hidden = true;
    this.img.alt = w.t('captcha-loading');
    this.capState.textContent = w.t('captcha-loading');
    return w.client.send('POST', '/api/v1/captchas').then(function (r) {
      if (seq !== self.capSeq) return;
      self.loadingCaptcha = false;
      self.newBtn.disabled = false;
      if (!r.ok || !r.data || !r.data.id) {
        self.capState.textContent = r.status === 429 ? w.t('slow-down') : w.t('captcha-error');
        self.img.removeAttribute('src');
        self.img.alt = w.t('captcha-error');
        return;
      }
      var d = r.data;
      var expires = Date.parse(d.expires_at);
      self.cap = {
        id: String(d.id),
        image: w.client.abs(d.image_url || ('/api/v1/captchas/' + enc(String(d.id)) + '/image.png')),
        audio: w.client.abs(d.audio_url || ('/api/v1/captchas/' + enc(String(d.id)) + '/audio.wav')),
        expires: isNaN(expires) ? Date.now() + 9 * 60000 : expires
      };
      self.img.setAttribute('data-captcha-id', self.cap.id);
      // Only present when the server runs with -captcha-test (CI and e2e tests).
      if (d.test_solution !== undefined && d.test_solution !== null) self.img.setAttribute('data-test-solution', String(d.test_solution));
      self.img.alt = w.t('captcha-img');
      self.img.src = self.cap.image;
      self.audioBtn.disabled = false;
      self.capState.textContent = '';
      if (byReader) self.solution.focus();
    });
  };

  CommentForm.prototype.onImageError = function () {
    // Unknown, used or expired: one fresh captcha, not a loop.
    if (!this.cap || this.capRetried) return;
    this.loadCaptcha(false, true);
  };

  CommentForm.prototype.playAudio = function () {
    var self = this;
    if (!this.cap) return;
    var url;
    try {
      var u = new URL(this.cap.audio, window.location.href);
      u.searchParams.set('lang', this.w.cfg.captchaLang);
      url = u.href;
    } catch (e) {
      url = this.cap.audio + '?lang=' + enc(this.w.cfg.captchaLang);
    }
    if (this.audio) { try { this.audio.pause(); } catch (e) { /* ignore */ } }
    this.audio = new Audio(url);
    var p = this.audio.play();
    if (p && typeof p.catch === 'function') {
      p.catch(function (err) {
        if (err && err.name === 'AbortError') return;
        self.capState.textContent = self.w.t('captcha-audio-error');
      });
    }
    this.solution.focus();
  };

  /* ---- submit ---- */

  CommentForm.prototype.validate = function () {
    var t = this.w.t;
    var num = this.w.cfg.num;
    var first = null;
    var self = this;
    function fail(name, msg) { var el = self.setError(name, msg); if (!first) first = el; }
    var author = this.author.value.trim();
    var body = this.body.value.trim();
    var email = this.email.value.trim();
    if (!author) fail('author', t('required'));
    else if (codePoints(author) > MAX_AUTHOR) fail('author', t('too-long', { max: num(MAX_AUTHOR) }));
    if (email && !/^[^\s@]+@[^\s@]+$/.test(email)) fail('email', t('email-invalid'));
    if (!body) fail('body', t('required'));
    else if (codePoints(body) > MAX_BODY) fail('body', t('too-long', { max: num(MAX_BODY) }));
    if (!this.solution.value.trim()) fail('captcha_solution', t('required'));
    return first;
  };

  CommentForm.prototype.submit = function () {
    var self = this;
    var w = this.w;
    var t = w.t;
    if (this.busy) return;
    this.clearErrors();
    var invalid = this.validate();
    if (!this.cap && !invalid) {
      invalid = this.setError('captcha_solution', t(this.loadingCaptcha ? 'captcha-loading' : 'captcha-error'));
      this.ensureCaptcha();
    }
    if (invalid) { invalid.focus(); return; }

    var payload = {
      author: this.author.value.trim(),
      body: this.body.value,
      captcha_id: this.cap.id,
      captcha_solution: this.solution.value.trim()
    };
    var email = this.email.value.trim();
    if (email) payload.email = email;
    if (email && this.notify.checked) {
      payload.notify_replies = true;
      payload.lang = w.cfg.lang;
    }
    if (this.parent) payload.parent_id = this.parent.data.id;

    this.busy = true;
    this.submitBtn.disabled = true;
    this.submitBtn.setAttribute('aria-busy', 'true');
    var label = this.submitBtn.textContent;
    this.submitBtn.textContent = t('submitting');

    w.client.send('POST', w.path('/comments'), { reader: 'want', json: payload }).then(function (r) {
      self.busy = false;
      self.submitBtn.disabled = false;
      self.submitBtn.removeAttribute('aria-busy');
      self.submitBtn.textContent = label;
      var code = r.error && r.error.code;

      if (code === 'comments_closed') { w.setClosed(); return; }
      // Captchas are single use: whatever the answer, the one sent is gone.
      // (A reply form that succeeded is about to close and needs none.)
      if (!(r.ok && self.parent)) self.loadCaptcha(false);

      if (r.ok && r.data && r.data.comment) {
        store.setJSON(AUTHOR_KEY, { author: payload.author, email: email });
        self.body.value = '';
        self.updateCounter();
        w.posted(r.data, self);
        return;
      }
      if (code === 'validation_failed' && r.error.fields && typeof r.error.fields === 'object') {
        var first = null;
        Object.keys(r.error.fields).forEach(function (name) {
          var target = name === 'captcha_id' ? 'captcha_solution' : name;
          var el = self.setError(target, String(r.error.fields[name]));
          if (!first && el) first = el;
        });
        if (!first && self.general.hidden) self.setError('_form', r.error.message || t('error'));
        if (first) first.focus();
        return;
      }
      if (code === 'captcha_invalid') {
        self.setError('captcha_solution', t('captcha-invalid'));
        self.solution.focus();
        return;
      }
      if (r.status === 429 || code === 'rate_limited') {
        self.setError('_form', r.retryAfter ? t('rate-limited', { n: w.cfg.num(r.retryAfter) }) : t('rate-limited-later'));
        return;
      }
      if (code === 'payload_too_large') {
        self.setError('body', t('too-long', { max: w.cfg.num(MAX_BODY) }));
        self.body.focus();
        return;
      }
      self.setError('_form', errorText(w.cfg, r));
    });
  };

  /* ------------------------------------------------------------------ */
  /* Count mode: "[like] 12  [dislike] 3  [comments] 5", batched per site */
  /* ------------------------------------------------------------------ */

  var countQueue = [];
  var countScheduled = false;

  function CountBadge(host, cfg) {
    this.cfg = cfg;
    this.root = host.attachShadow({ mode: 'open' });
    var style = document.createElement('style');
    style.textContent = COUNT_CSS;
    this.comments = h('span', { class: 'parley-comment-count' }, '–');
    this.sr = h('span', { class: 'parley-sr' });
    this.counts = null;
    this.set = [{ name: 'like', icon: 'like' }, { name: 'dislike', icon: 'dislike' }];
    this.nComments = null;
    this.items = h('span', { 'aria-hidden': 'true' });
    this.root.appendChild(style);
    this.root.appendChild(h('span', { class: 'parley-count-line', lang: cfg.locale, dir: cfg.dir }, this.items, this.sr));
    this.draw();
    reactionsOf(cfg).badges.push(this);
    countQueue.push(this);
    if (!countScheduled) {
      countScheduled = true;
      setTimeout(flushCounts, 0);
    }
  }

  // draw shows "[icon] n" per reaction of the site, then the comments.
  CountBadge.prototype.draw = function () {
    var self = this;
    var cfg = this.cfg;
    function s(x) { return x === null || x === undefined ? '–' : cfg.num(x); }
    clear(this.items);
    var sr = [];
    this.set.forEach(function (r) {
      var n = self.counts ? self.counts[r.name] || 0 : null;
      add(self.items, [h('span', { class: 'parley-item', 'data-reaction': r.name }, reactionIcon(r.icon), h('span', { class: 'parley-n' }, s(n))), ' ']);
      sr.push(cfg.label(r) + ': ' + s(n));
    });
    this.comments.textContent = s(this.nComments);
    add(this.items, h('span', { class: 'parley-item' }, icon('comments'), this.comments));
    sr.push(this.nComments === null ? '– ' + cfg.t('comments-other', { n: '' }).trim() : cfg.tn('comments', this.nComments));
    this.sr.textContent = sr.join(', ');
  };

  CountBadge.prototype.setReactions = function (set, counts) {
    if (set) this.set = set;
    this.counts = counts;
    this.draw();
  };

  CountBadge.prototype.setComments = function (n) {
    this.nComments = n;
    this.draw();
  };

  function flushCounts() {
    countScheduled = false;
    var jobs = countQueue.splice(0);
    var groups = new Map(); // base + site -> {client, site, articles: Map(key -> [badges])}
    jobs.forEach(function (b) {
      var k = b.cfg.base + '\n' + b.cfg.site;
      if (!groups.has(k)) groups.set(k, { client: b.cfg.client, site: b.cfg.site, articles: new Map() });
      var g = groups.get(k);
      if (!g.articles.has(b.cfg.article)) g.articles.set(b.cfg.article, []);
      g.articles.get(b.cfg.article).push(b);
    });
    groups.forEach(function (g) {
      var keys = Array.from(g.articles.keys());
      for (var i = 0; i < keys.length; i += BATCH) fetchReactionCounts(g, keys.slice(i, i + BATCH));
      fetchCommentCounts(g, keys);
    });
  }

  function fetchReactionCounts(g, keys) {
    var q = keys.map(function (k) { return 'article=' + enc(k); }).join('&');
    g.client.send('GET', '/api/v1/sites/' + enc(g.site) + '/reactions?' + q).then(function (r) {
      var arts = r.ok && r.data && r.data.articles || null;
      var set = r.ok && r.data && Array.isArray(r.data.reactions) ? r.data.reactions : null;
      keys.forEach(function (k) {
        var a = arts ? arts[k] : null;
        g.articles.get(k).forEach(function (b) { b.setReactions(set, arts ? a && a.counts || {} : null); });
      });
    });
  }

  // Comment counts have no batch endpoint: one limit=1 request per article,
  // four at a time.
  function fetchCommentCounts(g, keys) {
    var next = 0;
    function worker() {
      if (next >= keys.length) return Promise.resolve();
      var k = keys[next++];
      var path = '/api/v1/sites/' + enc(g.site) + '/articles/' + enc(k) + '/comments?limit=1';
      return g.client.send('GET', path).then(function (r) {
        var n = r.ok && r.data && typeof r.data.count === 'number' ? r.data.count : (r.status === 404 ? 0 : null);
        g.articles.get(k).forEach(function (b) { b.setComments(n); });
      }).then(worker);
    }
    for (var i = 0; i < Math.min(4, keys.length); i++) worker();
  }

  /* ------------------------------------------------------------------ */
  /* Mounting                                                             */
  /* ------------------------------------------------------------------ */

  var mounted = new WeakMap();

  function mount(el) {
    if (!el || el.nodeType !== 1) return null;
    if (mounted.has(el)) return mounted.get(el) || null;
    var cfg = configFor(el);
    if (!cfg) return null;
    if (el.shadowRoot) {
      if (window.console) console.warn('[parley] element already has a shadow root', el);
      return null;
    }
    function start() {
      try {
        var ctrl = cfg.mode === 'count' ? new CountBadge(el, cfg) : new Widget(el, cfg);
        mounted.set(el, ctrl);
        el.setAttribute('data-parley-mounted', cfg.mode);
        return ctrl;
      } catch (e) {
        if (window.console) console.error('[parley] could not mount', el, e);
        return null;
      }
    }
    // English is built in; another language waits for its texts, which
    // come once for all placements.
    var texts = loadTexts(cfg.lang);
    if (!texts) return start();
    mounted.set(el, null);
    texts.then(function (tr) {
      cfg.setTexts(tr);
      start();
    });
    return null;
  }

  function mountAll(root) {
    var scope = root || document;
    if (scope.nodeType === 1 && scope.hasAttribute('data-parley-site')) mount(scope);
    if (scope.querySelectorAll) Array.prototype.forEach.call(scope.querySelectorAll('[data-parley-site]'), mount);
  }

  window.Parley = {
    __parley: true,
    version: VERSION,
    apiBase: DEFAULT_BASE,
    mount: mount,
    mountAll: mountAll
  };

  mountAll(document);
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () { mountAll(document); });
  }
  if (typeof MutationObserver === 'function') {
    new MutationObserver(function (records) {
      records.forEach(function (rec) {
        rec.addedNodes.forEach(function (n) { if (n.nodeType === 1) mountAll(n); });
      });
    }).observe(document.documentElement, { childList: true, subtree: true });
  }
})();

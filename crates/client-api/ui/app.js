// The nexsuj daemon's web UI: plain JS, no build step. Logs in once with the API token (the
// daemon answers with an HttpOnly session cookie and a CSRF token sent with every POST), then
// polls the short list every 2 s and updates only the cells that changed, so that thousands of
// torrents stay responsive. Every string from the server goes in through textContent.
'use strict';

const $ = (id) => document.getElementById(id);
let csrf = null;
let torrents = [];
const rows = new Map(); // infohash -> { tr, cells }
let sortKey = 'name';
let sortDir = 1;
let detailHash = null;
let polling = false;
let again = false; // a poll was asked for while one was in flight
let filesKey = ''; // the detail's file list as last drawn (rebuilt only when it changes)

// ---- formatting -------------------------------------------------------------------------

function size(kib) {
  if (typeof kib !== 'number' || !Number.isFinite(kib)) return '';
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = kib;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${v.toFixed(v < 10 && i > 0 ? 2 : i > 0 ? 1 : 0)} ${units[i]}`;
}
const rate = (kibs) => (kibs > 0.05 ? `${size(kibs)}/s` : '');
function eta(secs) {
  if (secs === null || secs === undefined || !Number.isFinite(secs)) return '';
  const s = Math.round(secs);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d`;
}
const pct = (p) => `${Math.floor((p || 0) * 1000) / 10}%`;
const limit = (kibs) => (kibs ? `${kibs}` : '∞');
const limits = (t) => (t.maxdown || t.maxup ? `↓ ${limit(t.maxdown)} ↑ ${limit(t.maxup)}` : '');
const nameOf = (t) => t.name || t.infohash;
const ratio = (r) => (typeof r === 'number' && Number.isFinite(r) ? r.toFixed(2) : '');

// ---- talking to the daemon ------------------------------------------------------------------

function say(text, info = false) {
  const m = $('message');
  m.textContent = text;
  m.className = info ? 'info' : '';
  m.hidden = !text;
}

async function api(path, { method = 'GET', body, type } = {}) {
  const headers = {};
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf || '';
  if (type) headers['Content-Type'] = type;
  const res = await fetch(path, { method, body, headers, credentials: 'same-origin' });
  if (res.status === 401) { showLogin(); throw new Error('logged out'); }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || `${res.status} ${res.statusText}`);
  return data;
}

async function act(path, body, type) {
  try {
    const r = await api(path, { method: 'POST', body, type });
    say('');
    poll();
    return r;
  } catch (e) {
    say(e.message);
    return null;
  }
}

const q = (params) => new URLSearchParams(params).toString();

// ---- log-in ---------------------------------------------------------------------------------

function showLogin() {
  csrf = null;
  $('login-view').hidden = false;
  $('main-view').hidden = true;
  $('logout').hidden = true;
  $('totals').textContent = '';
}

function showMain() {
  $('login-view').hidden = true;
  $('main-view').hidden = false;
  $('logout').hidden = false;
  poll();
}

$('login').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const res = await fetch('/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ token: $('login-token').value.trim() }),
    credentials: 'same-origin',
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) { say(data.error || 'log-in failed'); return; }
  csrf = data.csrf;
  $('login-token').value = '';
  say('');
  showMain();
});

$('logout').addEventListener('click', async () => {
  await fetch('/logout', { method: 'POST', headers: { 'X-CSRF-Token': csrf || '' }, credentials: 'same-origin' });
  rows.forEach((r) => r.tr.remove());
  rows.clear();
  torrents = [];
  $('shown').textContent = '';
  closeDetail();
  showLogin();
});

// ---- the list -------------------------------------------------------------------------------

const COLUMNS = ['name', 'size', 'progress', 'state', 'downrate', 'uprate', 'eta', 'peers', 'ratio', 'limits'];

// Sort keys: numbers numerically, names by the locale, an unknown ETA last.
function sortValue(t, key) {
  if (key === 'name') return nameOf(t).toLowerCase();
  if (key === 'eta') return t.eta ?? Infinity;
  if (key === 'limits') return (t.maxdown || Infinity) + (t.maxup || Infinity) / 1e9;
  return t[key] ?? -1;
}

function makeRow(t) {
  const tr = document.createElement('tr');
  tr.dataset.infohash = t.infohash;
  const cells = {};
  for (const col of COLUMNS) {
    const td = document.createElement('td');
    td.dataset.col = col;
    if (col === 'name') { td.className = 'name'; td.dataset.action = 'detail'; }
    if (col === 'progress') {
      const bar = document.createElement('div');
      bar.className = 'progress';
      bar.append(document.createElement('div'), document.createElement('span'));
      td.append(bar);
    }
    cells[col] = td;
    tr.append(td);
  }
  const actions = document.createElement('td');
  actions.className = 'actions';
  for (const [action, label, title] of [
    ['start', 'Start', 'Start'], ['stop', 'Stop', 'Stop'], ['detail', 'Details', 'Trackers, peers, files, pieces'],
    ['remove', 'Remove', 'Remove (keep the data)'], ['remove-data', 'Delete', 'Remove with the data'],
  ]) {
    const b = document.createElement('button');
    b.dataset.action = action;
    b.textContent = label;
    b.title = title;
    actions.append(b);
  }
  tr.append(actions);
  return { tr, cells, last: {} };
}

function setText(row, col, text) {
  if (row.last[col] === text) return;
  row.last[col] = text;
  const td = row.cells[col];
  if (col === 'progress') {
    td.firstChild.firstChild.style.width = text;
    td.firstChild.lastChild.textContent = text;
  } else {
    td.textContent = text;
  }
  if (col === 'state') td.dataset.state = text;
}

function render() {
  const filter = $('filter').value.trim().toLowerCase();
  const seen = new Set();
  const list = torrents.filter((t) => !filter || nameOf(t).toLowerCase().includes(filter));
  const keyed = list.map((t) => [sortValue(t, sortKey), t]);
  keyed.sort(([x, a], [y, b]) => (x < y ? -1 : x > y ? 1 : 0) * sortDir || (a.infohash < b.infohash ? -1 : 1));
  const body = document.querySelector('#torrents tbody');
  let prev = null;
  for (const [, t] of keyed) {
    seen.add(t.infohash);
    let row = rows.get(t.infohash);
    if (!row) { row = makeRow(t); rows.set(t.infohash, row); }
    setText(row, 'name', nameOf(t));
    setText(row, 'size', size(t.size));
    setText(row, 'progress', pct(t.progress));
    setText(row, 'state', t.error && t.state === 'error' ? 'error' : t.state);
    setText(row, 'downrate', rate(t.downrate));
    setText(row, 'uprate', rate(t.uprate));
    setText(row, 'eta', eta(t.eta));
    setText(row, 'peers', String(t.peers ?? ''));
    setText(row, 'ratio', ratio(t.ratio));
    setText(row, 'limits', limits(t));
    const title = t.error || '';
    if (row.tr.title !== title) row.tr.title = title;
    row.tr.classList.toggle('selected', t.infohash === detailHash);
    // Move a row only when it is out of place: the DOM stays still when nothing changed.
    const want = prev ? prev.nextSibling : body.firstChild;
    if (want !== row.tr) body.insertBefore(row.tr, want);
    prev = row.tr;
  }
  // Rows the filter hides leave the table but are kept; rows of removed torrents are dropped.
  const present = new Set(torrents.map((t) => t.infohash));
  for (const [h, row] of rows) {
    if (seen.has(h)) continue;
    if (row.tr.parentNode) row.tr.remove();
    if (!present.has(h)) rows.delete(h);
  }
  $('empty').hidden = torrents.length > 0;
  $('shown').textContent = filter ? `${list.length} of ${torrents.length} shown` : '';
}

// One request at a time: a poll asked for while one is in flight (after an action) runs when it
// ends, so the list shows the action's effect at once rather than up to 2 s later.
async function poll() {
  if (csrf === null) return;
  if (polling) { again = true; return; }
  polling = true;
  again = false;
  try {
    const all = await api('/alldata?brief=true');
    if (csrf === null) return; // logged out meanwhile
    torrents = all.sessions || [];
    $('totals').textContent = `${torrents.length} torrents · ↓ ${rate(all.downrate) || '0'} · ↑ ${rate(all.uprate) || '0'}`
      + ` · limits ↓ ${limit(all.maxdown)} ↑ ${limit(all.maxup)} KiB/s`;
    if (document.activeElement !== $('global-down')) $('global-down').placeholder = all.maxdown ? `${all.maxdown} KiB/s` : 'unlimited';
    if (document.activeElement !== $('global-up')) $('global-up').placeholder = all.maxup ? `${all.maxup} KiB/s` : 'unlimited';
    render();
    if (detailHash) await pollDetail();
  } catch (e) {
    if (e.message !== 'logged out') say(e.message);
  } finally {
    polling = false;
    if (again && !document.hidden) poll();
  }
}

setInterval(() => { if (!document.hidden) poll(); }, 2000);
document.addEventListener('visibilitychange', () => { if (!document.hidden) poll(); });
$('filter').addEventListener('input', render);
function markSort() {
  document.querySelectorAll('th[data-sort]').forEach((th) => {
    if (th.dataset.sort === sortKey) th.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  });
}
document.querySelectorAll('th[data-sort]').forEach((th) => {
  th.tabIndex = 0;
  const sortBy = () => {
    const key = th.dataset.sort;
    sortDir = sortKey === key ? -sortDir : 1;
    sortKey = key;
    markSort();
    render();
  };
  th.addEventListener('click', sortBy);
  th.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); sortBy(); } });
});
markSort();

document.querySelector('#torrents tbody').addEventListener('click', async (ev) => {
  const el = ev.target.closest('[data-action]');
  const tr = ev.target.closest('tr');
  if (!el || !tr) return;
  const h = tr.dataset.infohash;
  const action = el.dataset.action;
  if (action === 'detail') { openDetail(h); return; }
  if (action === 'start') await act(`/starttorrent?${q({ infohash: h })}`);
  if (action === 'stop') await act(`/stoptorrent?${q({ infohash: h })}`);
  if (action === 'remove' || action === 'remove-data') {
    const t = torrents.find((x) => x.infohash === h);
    const what = action === 'remove' ? 'Remove' : 'Remove, and delete the data of,';
    if (!window.confirm(`${what} “${t ? nameOf(t) : h}”?`)) return;
    if (await act(`/removetorrent?${q({ infohash: h, delete: action === 'remove-data' })}`)) {
      if (detailHash === h) closeDetail();
    }
  }
});

// ---- adding ---------------------------------------------------------------------------------

$('add-file').addEventListener('change', async () => {
  const file = $('add-file').files[0];
  if (!file) return;
  const params = { start: 'true' };
  if ($('add-path').value.trim()) params.path = $('add-path').value.trim();
  const r = await act(`/addtorrentfile?${q(params)}`, await file.arrayBuffer(), 'application/x-bittorrent');
  if (r) say(`Added ${file.name}`, true);
  $('add-file').value = '';
});

$('add-magnet-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const url = $('add-magnet').value.trim();
  if (!url) return;
  const body = JSON.stringify({ url, targetdir: $('add-magnet-path').value.trim(), maxdown: 0, maxup: 0 });
  if (await act('/addmagnet', body, 'application/json')) {
    $('add-magnet').value = '';
    say('Magnet added: fetching its metadata from peers', true);
  }
});

$('limits').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  for (const [id, path] of [['global-down', '/setglobaldownrate'], ['global-up', '/setglobaluprate']]) {
    const v = $(id).value.trim();
    if (v !== '') await act(`${path}?${q({ rate: v })}`);
    $(id).value = '';
  }
});

// ---- the detail view ------------------------------------------------------------------------

function openDetail(h) {
  if (detailHash !== h) { filesKey = ''; $('detail-down').value = ''; $('detail-up').value = ''; }
  const fresh = detailHash !== h;
  detailHash = h;
  $('detail').hidden = false;
  if (fresh) $('detail').scrollIntoView({ block: 'start' });
  $('player').hidden = true;
  $('player').removeAttribute('src');
  pollDetail();
  render();
}

function closeDetail() {
  detailHash = null;
  $('detail').hidden = true;
  $('player').pause();
  $('player').removeAttribute('src');
  filesKey = '';
}
$('detail-close').addEventListener('click', () => {
  const row = rows.get(detailHash);
  closeDetail();
  render();
  if (row && row.tr.isConnected) row.tr.scrollIntoView({ block: 'center' });
});

$('detail-limits').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  for (const [id, path] of [['detail-down', '/setdownrate'], ['detail-up', '/setuprate']]) {
    const v = $(id).value.trim();
    if (v !== '') await act(`${path}?${q({ infohash: detailHash, rate: v })}`);
    $(id).value = '';
  }
});

function fill(tbody, rowsData) {
  const body = $(tbody);
  body.replaceChildren(...rowsData.map((cells) => {
    const tr = document.createElement('tr');
    for (const c of cells) {
      const td = document.createElement('td');
      if (c instanceof Node) td.append(c); else td.textContent = c;
      tr.append(td);
    }
    return tr;
  }));
}

function drawPieces(b64, n) {
  const canvas = $('piece-map');
  const ctx = canvas.getContext('2d');
  const bytes = Uint8Array.from(atob(b64 || ''), (ch) => ch.charCodeAt(0));
  const w = canvas.width;
  ctx.fillStyle = '#e3e6eb';
  ctx.fillRect(0, 0, w, canvas.height);
  if (!n) return;
  ctx.fillStyle = '#2f6fed';
  // One column per pixel: the share of its pieces we have, drawn as height.
  for (let x = 0; x < w; x += 1) {
    const from = Math.floor((x * n) / w);
    const to = Math.max(from + 1, Math.floor(((x + 1) * n) / w));
    let have = 0;
    for (let i = from; i < to; i += 1) if (bytes[i >> 3] & (0x80 >> (i & 7))) have += 1;
    const h = (have / (to - from)) * canvas.height;
    ctx.fillRect(x, canvas.height - h, 1, h);
  }
}

async function pollDetail() {
  const h = detailHash;
  if (!h) return;
  let t;
  try {
    t = await api(`/torrentdata?${q({ infohash: h })}`);
  } catch (e) {
    if (h !== detailHash) return;
    // Gone (removed here or by another client): close quietly; anything else is worth showing.
    if (torrents.some((x) => x.infohash === h) && e.message !== 'logged out') say(e.message);
    closeDetail();
    render();
    return;
  }
  if (h !== detailHash) return;
  $('detail-name').textContent = nameOf(t);
  $('detail-info').textContent = `${t.state} · ${pct(t.progress)} of ${size(t.size)} · ↓ ${size(t.downloaded)} ↑ ${size(t.uploaded)}`
    + ` · wasted ${size(t.wasted)} · limits ↓ ${t.maxdown || '∞'} ↑ ${t.maxup || '∞'} KiB/s · ${t.targetdir}`
    + (t.error ? ` · error: ${t.error}` : '');
  if (document.activeElement !== $('detail-down')) $('detail-down').placeholder = t.maxdown ? `${t.maxdown} KiB/s` : 'unlimited';
  if (document.activeElement !== $('detail-up')) $('detail-up').placeholder = t.maxup ? `${t.maxup} KiB/s` : 'unlimited';
  drawPieces(t.bitfield_base64, t.bitfield_length);
  // The file list rarely changes (once, when a magnet's metadata arrives): rebuilt only then, so
  // that its buttons and links stay put under the pointer.
  const files = t.files || [];
  const key = JSON.stringify([h, files]);
  if (key !== filesKey) {
    filesKey = key;
    fill('files', files.map((f) => {
      const url = `/stream/${encodeURIComponent(h)}/${encodeURIComponent(f.index)}`;
      const open = document.createElement('a');
      open.href = url;
      open.target = '_blank';
      open.rel = 'noopener';
      open.dataset.action = 'open';
      open.textContent = 'Open';
      const play = document.createElement('button');
      play.type = 'button';
      play.textContent = 'Stream';
      play.dataset.action = 'stream';
      play.addEventListener('click', () => {
        $('player').hidden = false;
        $('player').src = url;
        $('player').play().catch(() => {});
      });
      const both = document.createElement('span');
      both.className = 'file-actions';
      both.append(open, play);
      return [String(f.index), f.path, size(f.size), both];
    }));
  }
  fill('trackers', (t.trackers || []).map((r) => [r.url, r.error ? `${r.status}: ${r.error}` : r.status,
    String(r.seeders ?? ''), String(r.leechers ?? ''), String(r.peers ?? ''), r.lastannounce || '']));
  fill('peers', (t.Peers || []).map((p) => [p.host, p.ID, p.client || '', rate(p.downrate), rate(p.uprate),
    size(p.downloaded), size(p.uploaded), pct(p.relevence)]));
}

// ---- start ----------------------------------------------------------------------------------

(async () => {
  const res = await fetch('/csrf', { credentials: 'same-origin' });
  if (res.ok) {
    csrf = (await res.json()).csrf;
    showMain();
  } else {
    showLogin();
  }
})();

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

// ---- formatting -------------------------------------------------------------------------

function size(kib) {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = kib;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${v.toFixed(v < 10 && i > 0 ? 2 : i > 0 ? 1 : 0)} ${units[i]}`;
}
const rate = (kibs) => (kibs > 0.05 ? `${size(kibs)}/s` : '');
function eta(s) {
  if (s === null || s === undefined) return '';
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d`;
}
const pct = (p) => `${Math.floor(p * 1000) / 10}%`;

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
  closeDetail();
  showLogin();
});

// ---- the list -------------------------------------------------------------------------------

const COLUMNS = ['name', 'size', 'progress', 'state', 'downrate', 'uprate', 'eta', 'peers', 'ratio'];

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
  const list = torrents.filter((t) => !filter || t.name.toLowerCase().includes(filter));
  list.sort((a, b) => {
    const x = a[sortKey] ?? -1;
    const y = b[sortKey] ?? -1;
    return (x < y ? -1 : x > y ? 1 : 0) * sortDir || a.infohash.localeCompare(b.infohash);
  });
  const body = document.querySelector('#torrents tbody');
  let prev = null;
  for (const t of list) {
    seen.add(t.infohash);
    let row = rows.get(t.infohash);
    if (!row) { row = makeRow(t); rows.set(t.infohash, row); }
    setText(row, 'name', t.name);
    setText(row, 'size', size(t.size));
    setText(row, 'progress', pct(t.progress));
    setText(row, 'state', t.error && t.state === 'error' ? 'error' : t.state);
    setText(row, 'downrate', rate(t.downrate));
    setText(row, 'uprate', rate(t.uprate));
    setText(row, 'eta', eta(t.eta));
    setText(row, 'peers', String(t.peers));
    setText(row, 'ratio', t.ratio.toFixed(2));
    row.tr.title = t.error || '';
    row.tr.classList.toggle('selected', t.infohash === detailHash);
    // Move a row only when it is out of place: the DOM stays still when nothing changed.
    const want = prev ? prev.nextSibling : body.firstChild;
    if (want !== row.tr) body.insertBefore(row.tr, want);
    prev = row.tr;
  }
  for (const [h, row] of rows) {
    if (!seen.has(h)) { row.tr.remove(); if (!torrents.some((t) => t.infohash === h)) rows.delete(h); }
  }
  $('empty').hidden = torrents.length > 0;
}

async function poll() {
  if (polling || csrf === null) return;
  polling = true;
  try {
    const all = await api('/alldata?brief=true');
    torrents = all.sessions;
    $('totals').textContent = `${torrents.length} torrents · ↓ ${rate(all.downrate) || '0'} · ↑ ${rate(all.uprate) || '0'}`
      + ` · limits ↓ ${all.maxdown || '∞'} ↑ ${all.maxup || '∞'} KiB/s`;
    if (document.activeElement !== $('global-down')) $('global-down').placeholder = all.maxdown ? `${all.maxdown} KiB/s` : 'unlimited';
    if (document.activeElement !== $('global-up')) $('global-up').placeholder = all.maxup ? `${all.maxup} KiB/s` : 'unlimited';
    render();
    if (detailHash) await pollDetail();
  } catch (e) {
    if (e.message !== 'logged out') say(e.message);
  } finally {
    polling = false;
  }
}

setInterval(() => { if (!document.hidden) poll(); }, 2000);
document.addEventListener('visibilitychange', () => { if (!document.hidden) poll(); });
$('filter').addEventListener('input', render);
document.querySelectorAll('th[data-sort]').forEach((th) => th.addEventListener('click', () => {
  const key = th.dataset.sort;
  sortDir = sortKey === key ? -sortDir : 1;
  sortKey = key;
  render();
}));

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
    if (!window.confirm(`${what} “${t ? t.name : h}”?`)) return;
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
  detailHash = h;
  $('detail').hidden = false;
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
}
$('detail-close').addEventListener('click', () => { closeDetail(); render(); });

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
  try { t = await api(`/torrentdata?${q({ infohash: h })}`); } catch (e) { say(e.message); closeDetail(); return; }
  if (h !== detailHash) return;
  $('detail-name').textContent = t.name;
  $('detail-info').textContent = `${t.state} · ${pct(t.progress)} of ${size(t.size)} · ↓ ${size(t.downloaded)} ↑ ${size(t.uploaded)}`
    + ` · wasted ${size(t.wasted)} · limits ↓ ${t.maxdown || '∞'} ↑ ${t.maxup || '∞'} KiB/s · ${t.targetdir}`
    + (t.error ? ` · error: ${t.error}` : '');
  drawPieces(t.bitfield_base64, t.bitfield_length);
  fill('files', (t.files || []).map((f) => {
    const play = document.createElement('button');
    play.textContent = 'Stream';
    play.dataset.action = 'stream';
    play.addEventListener('click', () => {
      $('player').hidden = false;
      $('player').src = `/stream/${h}/${f.index}`;
      $('player').play().catch(() => {});
    });
    return [String(f.index), f.path, size(f.size), play];
  }));
  fill('trackers', (t.trackers || []).map((r) => [r.url, r.error ? `${r.status}: ${r.error}` : r.status,
    String(r.seeders), String(r.leechers), r.lastannounce || '']));
  fill('peers', (t.Peers || []).map((p) => [p.host, p.client || p.ID, rate(p.downrate), rate(p.uprate),
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

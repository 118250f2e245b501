// Assay workflow dashboard: vanilla JS, no external assets. Hash routes; live updates via SSE.
'use strict';
const $ = (s, el = document) => el.querySelector(s);
const view = $('#view');
const state = { ns: localStorage.getItem('assay.ns') || 'main', key: localStorage.getItem('assay.key') || '', es: null, refresh: null };

function h(tag, attrs = {}, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? '' : v);
  }
  for (const kid of kids.flat()) if (kid !== null && kid !== undefined) el.append(kid.nodeType ? kid : String(kid));
  return el;
}
const time = t => t ? new Date(t * 1000).toLocaleString() : '—';
const pretty = s => { if (s === null || s === undefined) return 'null'; try { return JSON.stringify(typeof s === 'string' ? JSON.parse(s) : s, null, 2); } catch { return String(s); } };
const badge = s => h('span', { class: 'badge ' + s }, s);
const terminal = s => ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT'].includes(s);

async function api(method, path, body) {
  const headers = { 'Content-Type': 'application/json' };
  if (state.key) headers.Authorization = 'Bearer ' + state.key;
  const res = await fetch('/api/v1' + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401) { askKey(); throw new Error('authentication required'); }
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error((data && data.error) || res.statusText);
  return data;
}
const q = (extra = {}) => '?' + new URLSearchParams({ namespace: state.ns, ...extra });

function askKey() {
  const dlg = $('#keydlg');
  if (dlg.open) return;
  $('#keyinput').value = '';
  dlg.showModal();
}
$('#keydlg').addEventListener('close', () => {
  if ($('#keydlg').returnValue === 'ok') {
    state.key = $('#keyinput').value.trim();
    localStorage.setItem('assay.key', state.key);
    connectStream(); init();
  }
});
$('#key').onclick = askKey;

function setTheme(t) { document.documentElement.dataset.theme = t; localStorage.setItem('assay.theme', t); }
setTheme(localStorage.getItem('assay.theme') || (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'));
$('#theme').onclick = () => setTheme(document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark');

function showError(e) { view.prepend(h('p', { class: 'err' }, String(e.message || e))); }

// ── live updates ──
function connectStream() {
  if (state.es) state.es.close();
  const params = new URLSearchParams({ namespace: state.ns });
  if (state.key) params.set('access_token', state.key);
  const es = new EventSource('/api/v1/events/stream?' + params);
  state.es = es;
  es.onopen = () => $('#live').classList.add('on');
  es.onerror = () => $('#live').classList.remove('on');
  const bump = () => { clearTimeout(state.refresh); state.refresh = setTimeout(() => route(true), 150); };
  es.addEventListener('workflow_event', bump);
  es.addEventListener('status', bump);
}

// A task of the workflow was handed back by a worker lacking its type: say which type waits for a worker.
const unhandledNote = (w) => w.unhandled && !terminal(w.status) ? h('div', { class: 'card warn', id: 'unhandled' },
  `Waiting for a worker: no worker that polled queue '${w.unhandled.task_queue}' defines ${w.unhandled.kind} type '${w.unhandled.name}' ` +
  `(last handed back by worker ${w.unhandled.worker_id} at ${time(w.unhandled.at)}).`) : null;

// Type-aware dispatch: tasks of the workflow wait on a type no live worker registered (they run once one arrives).
const unservedText = (u) => `${u.kind} type '${u.name}' on queue '${u.task_queue}'`;
const noWorkerNote = (w) => w.no_worker_for_type ? h('div', { class: 'card warn', id: 'no-worker' },
  'Waiting for a worker: no live worker serves ' + w.unserved.map(unservedText).join(', ') + '.') : null;
const noWorkerMark = (w) => w.no_worker_for_type ? h('span', { class: 'warn no-worker', title: 'no live worker serves ' + w.unserved.map(unservedText).join(', ') }, ' ⚠ no worker') : null;

// ── pages ──
const pages = {
  async workflows(args, live) {
    const p = new URLSearchParams(args);
    const page = +(p.get('page') || 0), status = p.get('status') || '', type = p.get('type') || '';
    const list = await api('GET', '/workflows' + q({ limit: 20, offset: page * 20, ...(status && { status }), ...(type && { type }) }));
    const go = (o) => location.hash = '#/workflows?' + new URLSearchParams({ status, type, page, ...o });
    const statusSel = h('select', { id: 'f-status', onchange: e => go({ status: e.target.value, page: 0 }) },
      ['', 'PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'].map(s => h('option', { value: s, selected: s === status }, s || 'any status')));
    const typeIn = h('input', { id: 'f-type', placeholder: 'workflow type', value: type, onchange: e => go({ type: e.target.value, page: 0 }) });
    const rows = list.map(w => h('tr', { 'data-id': w.id },
      h('td', {}, h('a', { href: '#/workflow/' + encodeURIComponent(w.id) }, w.id)), h('td', {}, w.workflow_type),
      h('td', {}, badge(w.status), w.unhandled && !terminal(w.status) ? h('span', { class: 'warn', title: `no worker defines ${w.unhandled.kind} type '${w.unhandled.name}'` }, ' ⚠ unhandled type') : null, noWorkerMark(w)),
      h('td', {}, w.task_queue), h('td', {}, time(w.created_at))));
    return [
      h('div', { class: 'bar' }, statusSel, typeIn, h('button', { id: 'start-open', onclick: () => $('#startform').hidden = !$('#startform').hidden }, '+ Start workflow')),
      startForm(),
      h('table', { id: 'wf-table' }, h('tr', {}, ['ID', 'Type', 'Status', 'Queue', 'Created'].map(c => h('th', {}, c))), rows),
      h('div', { class: 'bar' }, page > 0 ? h('button', { onclick: () => go({ page: page - 1 }) }, '‹ Prev') : null,
        h('span', {}, 'page ' + (page + 1)), list.length === 20 ? h('button', { onclick: () => go({ page: page + 1 }) }, 'Next ›') : null),
    ];
  },
  async workflow(args) {
    const id = decodeURIComponent(args);
    const enc = encodeURIComponent(id);
    const timeline = () => api('GET', '/workflows/' + enc + '/timeline');
    const [w, events, children, tl] = await Promise.all([api('GET', '/workflows/' + enc), api('GET', '/workflows/' + enc + '/events'), api('GET', '/workflows/' + enc + '/children'), timeline()]);
    let snap = null; try { snap = await api('GET', '/workflows/' + enc + '/state'); } catch { }
    const act = async (fn) => { try { await fn(); route(true); } catch (e) { showError(e); } };
    const actions = terminal(w.status) ? [] : [
      h('button', { id: 'act-signal', onclick: () => { const n = prompt('Signal name'); if (!n) return; const p = prompt('Payload (JSON)', 'null'); act(() => api('POST', `/workflows/${enc}/signal/${encodeURIComponent(n)}`, { payload: JSON.parse(p || 'null') })); } }, 'Signal'),
      h('button', { id: 'act-cancel', onclick: () => act(() => api('POST', `/workflows/${enc}/cancel`)) }, 'Cancel'),
      h('button', { id: 'act-terminate', onclick: () => { if (confirm('Terminate ' + id + '?')) act(() => api('POST', `/workflows/${enc}/terminate`, { reason: 'terminated from the dashboard' })); } }, 'Terminate'),
    ];
    return [
      h('p', {}, h('a', { href: '#/workflows' }, '‹ workflows')),
      h('h2', {}, id, ' ', badge(w.status)),
      h('div', { class: 'bar' }, actions),
      h('div', { class: 'card grid' }, ['workflow_type', 'namespace', 'task_queue', 'priority', 'run_id', 'parent_id', 'continued_from', 'continued_to'].flatMap(k => [h('b', {}, k), h('span', {}, w[k] ?? '—')]),
        h('b', {}, 'created'), h('span', {}, time(w.created_at)), h('b', {}, 'completed'), h('span', {}, time(w.completed_at))),
      w.error ? h('div', { class: 'card err' }, w.error) : null,
      unhandledNote(w),
      noWorkerNote(w),
      h('details', { class: 'card', open: true }, h('summary', {}, 'Input'), h('pre', {}, pretty(w.input))),
      h('details', { class: 'card', open: w.result !== null }, h('summary', {}, 'Result'), h('pre', {}, pretty(w.result))),
      snap ? h('details', { class: 'card', open: true }, h('summary', {}, 'Query state (event ' + snap.event_seq + ')'), h('pre', {}, pretty(snap.state))) : null,
      children.length ? h('div', { class: 'card' }, h('b', {}, 'Children'), children.map(c => h('div', {}, h('a', { href: '#/workflow/' + encodeURIComponent(c.id) }, c.id), ' ', badge(c.status)))) : null,
      h('h3', {}, 'Timeline'),
      timelineSection(tl, timeline), // timeline.js
      h('h3', {}, 'History'),
      h('table', { id: 'history' }, events.map(e => h('tr', { class: 'event' }, h('td', {}, e.seq), h('td', {}, e.event_type), h('td', {}, time(e.timestamp)),
        h('td', {}, h('details', {}, h('summary', {}, 'payload'), h('pre', {}, pretty(e.payload))))))),
    ];
  },
  async schedules() {
    const list = await api('GET', '/schedules' + q());
    const act = async (fn) => { try { await fn(); route(true); } catch (e) { showError(e); } };
    const path = (s, x = '') => `/schedules/${encodeURIComponent(s.name)}${x}` + q();
    const form = h('form', { id: 'schedform', class: 'card bar', onsubmit: e => { e.preventDefault(); const f = new FormData(e.target);
      act(() => api('POST', '/schedules', { name: f.get('name'), workflow_type: f.get('type'), cron_expr: f.get('cron'), timezone: f.get('tz') || 'UTC',
        task_queue: f.get('queue') || 'default', overlap_policy: f.get('overlap'), namespace: state.ns, input: JSON.parse(f.get('input') || 'null') })); } },
      h('input', { name: 'name', placeholder: 'name', required: true }), h('input', { name: 'type', placeholder: 'workflow type', required: true }),
      h('input', { name: 'cron', placeholder: 'cron (e.g. 0 */5 * * * *)', required: true }), h('input', { name: 'tz', placeholder: 'timezone (UTC)' }),
      h('input', { name: 'queue', placeholder: 'queue (default)' }), h('input', { name: 'input', placeholder: 'input JSON' }),
      h('select', { name: 'overlap' }, ['skip', 'buffer_one', 'buffer_all', 'cancel_other', 'terminate_other', 'allow_all'].map(p => h('option', { value: p }, p))),
      h('button', { type: 'submit' }, 'Create schedule'));
    return [form, h('table', { id: 'sched-table' }, h('tr', {}, ['Name', 'Type', 'Cron', 'Zone', 'Policy', 'State', 'Next run', 'Last run', ''].map(c => h('th', {}, c))),
      list.map(s => h('tr', { 'data-name': s.name }, h('td', {}, s.name), h('td', {}, s.workflow_type), h('td', {}, h('code', {}, s.cron_expr)), h('td', {}, s.timezone),
        h('td', {}, s.overlap_policy), h('td', { class: 'sched-state' }, s.paused ? 'paused' : 'active'), h('td', {}, time(s.next_run_at)), h('td', {}, time(s.last_run_at)),
        h('td', {}, s.paused ? h('button', { class: 'resume', onclick: () => act(() => api('POST', path(s, '/resume'))) }, 'Resume')
                             : h('button', { class: 'pause', onclick: () => act(() => api('POST', path(s, '/pause'))) }, 'Pause'),
          ' ', h('button', { onclick: () => act(() => api('POST', path(s, '/trigger'))) }, 'Run now'),
          ' ', h('button', { onclick: () => { const c = prompt('New cron', s.cron_expr); if (c) act(() => api('PATCH', path(s), { cron_expr: c })); } }, 'Edit'),
          ' ', h('button', { onclick: () => { if (confirm('Delete ' + s.name + '?')) act(() => api('DELETE', path(s))); } }, 'Delete')))))];
  },
  async workers() {
    const list = await api('GET', '/workers' + q());
    const now = Date.now() / 1000;
    return h('table', {}, h('tr', {}, ['', 'ID', 'Identity', 'Queue', 'Last heartbeat'].map(c => h('th', {}, c))),
      list.map(w => h('tr', {}, h('td', {}, h('span', { class: 'dot' + (now - w.last_heartbeat < 30 ? ' on' : '') })), h('td', {}, w.id), h('td', {}, w.identity),
        h('td', {}, w.task_queue), h('td', {}, time(w.last_heartbeat)))));
  },
  async queues() {
    const list = await api('GET', '/queues' + q());
    // The rate limit is the queue's (across namespaces); an empty answer clears it.
    const limit = async (x) => {
      const v = prompt(`Activities per second on queue '${x.queue}' (empty: no limit)`, x.max_activities_per_second ?? '');
      if (v === null) return;
      const n = v.trim() === '' ? null : Number(v); // not a number: sent as typed, for the engine's message
      try { await api('PUT', '/queues/' + encodeURIComponent(x.queue), { max_activities_per_second: n === null || Number.isFinite(n) ? n : v }); route(true); }
      catch (e) { showError(e); }
    };
    return h('table', { id: 'queue-table' }, h('tr', {}, ['Queue', 'Pending activities', 'Running', 'Pending workflow tasks', 'Workers', 'Activities/s limit', ''].map(c => h('th', {}, c))),
      list.map(x => h('tr', { 'data-queue': x.queue }, h('td', {}, x.queue), h('td', {}, x.pending_activities, x.pending_activities > 0 && x.workers === 0 ? ' ⚠' : ''),
        h('td', {}, x.running_activities), h('td', {}, x.pending_workflow_tasks), h('td', {}, x.workers),
        h('td', { class: 'rate' }, x.max_activities_per_second ?? '—'), h('td', {}, h('button', { class: 'set-rate', onclick: () => limit(x) }, 'Set limit')))));
  },
  async namespaces() {
    const list = await api('GET', '/namespaces');
    const act = async (fn) => { try { await fn(); await loadNamespaces(); route(true); } catch (e) { showError(e); } };
    return [h('form', { class: 'bar', onsubmit: e => { e.preventDefault(); act(() => api('POST', '/namespaces', { name: new FormData(e.target).get('name') })); } },
      h('input', { name: 'name', placeholder: 'new namespace', required: true }), h('button', {}, 'Create')),
      h('table', {}, h('tr', {}, ['Name', 'Created', 'Retention', ''].map(c => h('th', {}, c))),
        list.map(n => h('tr', {}, h('td', {}, n.name), h('td', {}, time(n.created_at)), h('td', {}, n.retention_secs ?? 'forever'),
          h('td', {}, n.name === 'main' ? '' : h('button', { onclick: () => act(() => api('DELETE', '/namespaces/' + encodeURIComponent(n.name))) }, 'Delete')))))];
  },
};

function startForm() {
  return h('form', { id: 'startform', class: 'card bar', hidden: true, onsubmit: async e => {
      e.preventDefault(); const f = new FormData(e.target); const type = f.get('type');
      try {
        const r = await api('POST', '/workflows', { workflow_type: type, workflow_id: f.get('id') || `wf-${type.toLowerCase()}-${Date.now()}`,
          task_queue: f.get('queue') || 'default', priority: +f.get('priority'), namespace: state.ns, input: JSON.parse(f.get('input') || 'null') });
        location.hash = '#/workflow/' + encodeURIComponent(r.workflow_id);
      } catch (err) { showError(err); } } },
    h('input', { name: 'type', placeholder: 'workflow type', required: true }), h('input', { name: 'id', placeholder: 'id (optional)' }),
    h('input', { name: 'queue', placeholder: 'queue (default)' }), h('input', { name: 'input', placeholder: 'input JSON' }),
    h('select', { name: 'priority', title: 'priority: 1 runs first' }, [1, 2, 3, 4, 5].map(p => h('option', { value: p, selected: p === 3 }, 'priority ' + p))),
    h('button', { type: 'submit' }, 'Start'));
}

// Renders are numbered: a view fetched by an older call (a live refresh started before the user
// navigated, say) must not replace a newer one.
let renderCount = 0;
const typing = () => document.querySelector('form:not([hidden]) input:focus, dialog[open]');
async function route(live = false) {
  const render = ++renderCount;
  const [name, ...rest] = (location.hash.replace(/^#\//, '') || 'workflows').split('/');
  const [page, args] = name.includes('?') ? [name.split('?')[0], name.split('?')[1]] : [name, rest.join('/')];
  document.querySelectorAll('[data-nav]').forEach(a => a.classList.toggle('on', a.dataset.nav === page || (page === 'workflow' && a.dataset.nav === 'workflows')));
  if (live && typing()) return; // don't disturb typing
  let content;
  try { content = [await (pages[page] || pages.workflows)(args, live)].flat().filter(Boolean); }
  catch (e) { content = [h('p', { class: 'err' }, String(e.message || e))]; }
  if (render !== renderCount || (live && typing())) return; // superseded, or the user began typing meanwhile
  view.replaceChildren(...content);
}

async function loadNamespaces() {
  const sel = $('#ns');
  try {
    const list = await api('GET', '/namespaces');
    sel.replaceChildren(...list.map(n => h('option', { value: n.name, selected: n.name === state.ns }, n.name)));
  } catch { }
}
$('#ns').onchange = e => { state.ns = e.target.value; localStorage.setItem('assay.ns', state.ns); connectStream(); route(); };

async function init() {
  try { const v = await (await fetch('/api/v1/version')).json(); $('#status').textContent = `assay ${v.version} · ${v.backend}`; } catch { }
  await loadNamespaces();
  route();
}
window.addEventListener('hashchange', () => route());
connectStream();
init();

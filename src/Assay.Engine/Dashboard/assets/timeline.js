// Assay dashboard: the time-scaled view of one workflow run (the "Timeline" section of the workflow page).
// Draws GET /api/v1/workflows/{id}/timeline as bars on a time axis: plain HTML positioned from script (the page's
// CSP forbids inline style attributes, not CSSOM), no libraries. Each bar is a button: its title is the tooltip,
// its aria-label the text alternative, Enter/click shows the details below the chart. Uses h() from app.js
// (loaded after this file; called only at render time).
'use strict';

const timelineSection = (() => {
  const KIND = { run: 'workflow', activity: 'activity', timer: 'timer', child: 'child workflow', signal_wait: 'waiting for signal', signal: 'signal' };
  const MAX_ROWS = 500;     // a run with thousands of steps: draw the first ones, the page stays responsive
  const REFRESH_MS = 2000; // a claimed or retried activity records no event: refresh open runs on a timer too
  let selectedKey = null;  // the bar whose details are shown, kept across live re-renders
  let focusedKey = null;   // the bar that had keyboard focus, restored after a re-render
  let shown = null;        // the workflow these keys belong to

  const clock = t => new Date(t * 1000).toLocaleTimeString();
  // A duration in the two largest units that matter: 250 ms, 12.5 s, 3 m 20 s, 2 h, 1 d 4 h.
  function dur(s) {
    if (s === 0) return '0 s';
    if (s < 1) return Math.round(s * 1000) + ' ms';
    if (s < 60) return (+s.toFixed(s < 10 ? 2 : 1)) + ' s';
    const two = (big, bigUnit, small, smallUnit) => { const a = Math.floor(s / big), b = Math.round((s % big) / small); return a + ' ' + bigUnit + (b ? ` ${b} ${smallUnit}` : ''); };
    if (s < 3600) return two(60, 'm', 1, 's');
    if (s < 86400) return two(3600, 'h', 60, 'm');
    return two(86400, 'd', 3600, 'h');
  }

  // What an open span waits for, in words (the API says it as a keyword: docs/engine.md "Timeline").
  function waitingText(i) {
    const attempts = i.max_attempts ? ` ${i.attempt} of ${i.max_attempts}` : '';
    switch (i.waiting) {
      case 'worker': return `scheduled, not claimed yet: waiting for a worker on queue '${i.task_queue}' (attempt${attempts})`;
      case 'retry': return `retry: attempt${attempts} due at ${clock(i.next_attempt_at)}`;
      case 'attempt': return `attempt${attempts} running on worker ${i.worker} since ${clock(i.attempt_started_at)}`;
      case 'fire': return `timer fires at ${clock(i.fire_at)}`;
      case 'child': return `child workflow still ${i.child_status || 'running'}`;
      case 'signal': return `waiting for signal '${i.signal}'`;
      default: return null;
    }
  }

  // Label/value pairs for the tooltip and the detail panel.
  function facts(i, t) {
    const rel = x => '+' + dur(x - t.start);
    const f = [['status', i.status]];
    if (i.waiting) f.push(['waiting', waitingText(i)]);
    f.push(['started', `${rel(i.start)} (${clock(i.start)})`]);
    if (i.end !== null && i.end !== i.start) f.push(['ended', `${rel(i.end)} (${clock(i.end)})`], ['duration', dur(i.end - i.start)]);
    if (i.end === null) f.push(['open for', dur(t.now - i.start)]);
    if (i.kind === 'activity') f.push(['attempts', `${i.attempt ?? '?'} of ${i.max_attempts ?? '?'}`], ['queue', i.task_queue]);
    if (i.attempt_started_at) f.push([i.end === null ? 'current attempt' : 'last attempt',
      `started ${rel(i.attempt_started_at)} on worker ${i.worker}` + (i.end !== null ? `, took ${dur(i.end - i.attempt_started_at)}` : '')]);
    if (i.kind === 'timer') f.push(['fires at', `${rel(i.fire_at)} (${clock(i.fire_at)})`]);
    if (i.kind === 'child') f.push(['type', i.workflow_type]);
    if (i.error) f.push([i.kind === 'activity' ? 'last error' : 'error', i.error]);
    return f.filter(([, v]) => v !== null && v !== undefined);
  }
  const title = (i, t) => `${KIND[i.kind]} ${i.name}\n` + facts(i, t).map(([k, v]) => `${k}: ${v}`).join('\n');
  const label = (i, t) => `${KIND[i.kind]} ${i.name}: ${i.waiting ? 'pending, ' + waitingText(i) : i.status}` +
    (i.kind === 'activity' && i.attempt > 1 ? `, ${i.attempt} attempts` : '') +
    (i.end !== null && i.end !== i.start ? `, took ${dur(i.end - i.start)}` : '');

  // The axis runs from the start of the run to its end, or for a live run to now or the furthest known future
  // moment (a timer's fire time, the next attempt of a retry), so what is coming is on the chart too.
  function domain(t) {
    let end = t.end ?? t.now;
    if (t.end === null) for (const i of t.items) end = Math.max(end, i.end === null ? (i.fire_at ?? i.next_attempt_at ?? 0) : 0);
    return [t.start, Math.max(end, t.start + 1)];
  }
  const STEPS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];
  function ticks(t0, t1) {
    const step = STEPS.find(s => (t1 - t0) / s <= 8) || (t1 - t0) / 8;
    const out = [];
    for (let x = 0; x <= t1 - t0 + 1e-9; x += step) out.push(x);
    return out;
  }

  function place(el, from, to, [t0, t1]) {
    const pct = x => ((x - t0) / (t1 - t0)) * 100;
    el.style.left = pct(from) + '%';
    el.style.width = Math.max(0, pct(to) - pct(from)) + '%';
    return el;
  }

  function bar(i, t, dom, select) {
    const end = i.end ?? t.now;
    const b = h('button', {
      type: 'button', class: `tl-bar kind-${i.kind} status-${i.status}${i.end === null ? ' pending' : ''}${i.end === i.start ? ' point' : ''}`,
      'data-key': i.key, 'data-kind': i.kind, 'data-status': i.status, title: title(i, t), 'aria-label': label(i, t),
      'aria-pressed': i.key === selectedKey ? 'true' : 'false', onclick: () => select(i.key), onfocus: () => { focusedKey = i.key; },
    });
    place(b, i.start, end, dom);
    // The running attempt of a retried activity: where it began inside the activity's span.
    if (i.attempt_started_at && end > i.start) {
      const seg = h('span', { class: 'tl-attempt' });
      seg.style.left = ((i.attempt_started_at - i.start) / (end - i.start)) * 100 + '%';
      b.append(seg);
    }
    return b;
  }

  function row(i, t, dom, select) {
    const track = h('span', { class: 'tl-track' }, bar(i, t, dom, select));
    const future = i.end === null ? (i.fire_at ?? i.next_attempt_at) : null;
    if (future && future > t.now) track.append(place(h('span', { class: 'tl-future', 'aria-hidden': 'true' }), t.now, future, dom));
    return h('li', { class: 'tl-row' + (i.end === null ? ' pending' : ''), 'data-key': i.key, 'data-kind': i.kind },
      h('span', { class: 'tl-label', title: `${KIND[i.kind]} ${i.name}` }, h('span', { class: 'tl-kind' }, KIND[i.kind]), ' ', i.name,
        i.end === null ? h('span', { class: 'tl-wait', 'aria-hidden': 'true' }, 'pending') : null),
      track);
  }

  function detail(i, t) {
    if (!i) return h('p', { class: 'tl-hint' }, 'Select a bar (click, or Tab to it and press Enter) for its details.');
    return [h('b', {}, `${KIND[i.kind]} ${i.name}`),
      h('dl', { class: 'grid' }, facts(i, t).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
      i.child_workflow_id ? h('a', { href: '#/workflow/' + encodeURIComponent(i.child_workflow_id) }, 'open child workflow ›') : null];
  }

  function render(el, t) {
    const dom = domain(t);
    const run = { kind: 'run', key: 'run', name: t.workflow_id, status: t.status, start: t.start, end: t.end, waiting: null };
    const items = [run, ...t.items.slice(0, MAX_ROWS)];
    const byKey = new Map(items.map(i => [i.key, i]));
    const panel = h('div', { class: 'tl-detail', id: 'tl-detail', 'aria-live': 'polite' });
    const select = key => {
      selectedKey = selectedKey === key ? null : key;
      el.querySelectorAll('.tl-bar').forEach(b => b.setAttribute('aria-pressed', b.dataset.key === selectedKey ? 'true' : 'false'));
      panel.replaceChildren(...[detail(byKey.get(selectedKey), t)].flat().filter(Boolean));
    };
    const axis = h('div', { class: 'tl-track tl-axis', 'aria-hidden': 'true' },
      ticks(...dom).map(x => { const s = h('span', { class: 'tl-tick' }, '+' + dur(x)); s.style.left = (x / (dom[1] - dom[0])) * 100 + '%'; return s; }));
    if (t.end === null) axis.append(place(h('span', { class: 'tl-now', title: 'now' }), t.now, t.now, dom));
    const hadFocus = focusedKey && el.contains(document.activeElement);
    el.replaceChildren(
      h('div', { class: 'tl-head' }, h('span', {}, `${t.items.length} item(s) from ${new Date(t.start * 1000).toLocaleString()}`),
        h('span', {}, t.end === null ? `live, ${t.items.filter(i => i.end === null).length} pending` : `took ${dur(t.end - t.start)}`)),
      h('div', { class: 'tl-row tl-axis-row' }, h('span', { class: 'tl-label' }), axis),
      h('ul', { class: 'tl-rows', 'aria-label': 'timeline items, oldest first' }, items.map(i => row(i, t, dom, select))),
      t.items.length > MAX_ROWS ? h('p', { class: 'tl-hint' }, `Showing the first ${MAX_ROWS} of ${t.items.length} items; the history below has them all.`) : null,
      panel);
    if (!byKey.has(selectedKey)) selectedKey = null;
    panel.replaceChildren(...[detail(byKey.get(selectedKey), t)].flat().filter(Boolean));
    if (hadFocus || (focusedKey && document.activeElement === document.body)) refocus(el);
  }
  const refocus = el => el.querySelector(`.tl-bar[data-key="${CSS.escape(focusedKey)}"]`)?.focus({ preventScroll: true });

  // The section: drawn from the data the page fetched; while the run is live it also refreshes itself.
  return function section(t, reload) {
    if (shown !== t.workflow_id) { shown = t.workflow_id; selectedKey = focusedKey = null; }
    const el = h('section', { id: 'run-timeline', class: 'card tl', 'aria-label': 'Timeline of the run' });
    // Focus that leaves a bar still on the page was moved by the user: forget it. A bar removed by a redraw keeps it.
    el.addEventListener('focusout', e => setTimeout(() => { if (e.target.isConnected && !el.contains(document.activeElement)) focusedKey = null; }));
    render(el, t);
    // After the page swapped this section in, give focus back to the bar that had it in the page it replaced.
    requestAnimationFrame(() => { if (focusedKey && document.activeElement === document.body) refocus(el); });
    if (t.end === null) {
      const timer = setInterval(async () => {
        if (!el.isConnected) return clearInterval(timer);
        if (document.hidden) return;
        try { const next = await reload(); if (el.isConnected) render(el, next); if (next.end !== null) clearInterval(timer); } catch { }
      }, REFRESH_MS);
    }
    return el;
  };
})();

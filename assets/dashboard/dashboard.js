// orc-state dashboard (served by `orc-state serve`; API v1, docs/api/SERVE_API.md).
// Plain browser JavaScript, no build step, no CDN: the layout comes from @dagrejs/dagre's
// own browser build (/vendor/dagre.min.js). Every text from the repository is set with
// textContent (never as HTML). Live: one EventSource on /api/events; a task event recolours
// its node at once, then the snapshot (and the plan, for the critical path) are re-read.
'use strict';
(function () {
  const TASK_STATUSES = ['pending', 'queued', 'running', 'validating', 'retrying', 'completed', 'failed', 'cancelled'];
  const NODE_W = 172;
  const NODE_H = 46;
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const FEED_MAX = 200;

  const ui = {
    state: null,
    plan: null,
    selectedWs: decodeURIComponent((location.hash.match(/ws=([^&]+)/) || [])[1] || ''),
    selectedTask: null,
    lastSeq: 0,
    historyUpTo: 0,
    feedMax: 0,
    applied: {}, // seq -> time (ms since epoch) the change was on screen (read by the bench)
    layoutKey: '',
  };
  window.orcDashboard = ui;

  const $ = (id) => document.getElementById(id);
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }
  function svg(tag, attrs) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
    return e;
  }
  const pill = (status) => el('span', { class: `pill s-${status}`, text: status });
  function fmtDuration(s) {
    if (s === null || s === undefined || !isFinite(s)) return '–';
    if (s < 60) return `${Math.round(s * 10) / 10}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
    if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
    return `${Math.floor(s / 86400)}d${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`;
  }
  function ago(iso) {
    const t = Date.parse(iso);
    if (!isFinite(t)) return '–';
    const s = Math.max(0, (Date.now() - t) / 1000);
    return `${fmtDuration(s)} ago`;
  }
  const clockOf = (iso) => (iso ? iso.replace(/^.*T/, '').replace(/\.\d+Z$/, 'Z') : '');
  async function getJson(url) {
    const r = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return r.json();
  }

  // ---------- snapshot ----------
  function renderState() {
    const s = ui.state;
    $('repo').textContent = s.repository;
    $('seq').textContent = String(Math.max(s.last_seq, ui.lastSeq));
    if (!ui.selectedWs || !s.workstreams.some((w) => w.workstream_id === ui.selectedWs)) {
      const busy = s.workstreams.find((w) => w.status === 'executing') || s.workstreams[0];
      const before = ui.selectedWs;
      ui.selectedWs = busy ? busy.workstream_id : '';
      // A repository that had no state when the page opened: draw the first workstream once it appears.
      if (ui.selectedWs && ui.selectedWs !== before && document.body.dataset.ready === 'true') void loadPlan();
    }
    const list = $('workstreams');
    list.replaceChildren(
      ...s.workstreams.map((w) => {
        const counts = TASK_STATUSES.filter((k) => w.counts[k]).map((k) => `${k} ${w.counts[k]}`).join(' · ');
        const bar = el('div', { class: 'bar' }, el('div'));
        bar.firstChild.style.width = `${Math.round(w.progress * 100)}%`;
        return el(
          'li',
          { class: w.workstream_id === ui.selectedWs ? 'selected' : '', 'data-ws': w.workstream_id, onclick: () => selectWorkstream(w.workstream_id) },
          el('div', { class: 'ws-name' }, el('span', { text: w.workstream_id }), pill(w.status)),
          bar,
          el('div', { class: 'muted small', text: `${w.completed}/${w.total} completed${counts ? ` — ${counts}` : ''}` }),
        );
      }),
    );
    renderWorkers();
    renderMetrics();
    renderProblems();
  }

  function renderWorkers() {
    const rows = ui.state.workers.map((w) =>
      el(
        'tr',
        { 'data-worker': w.worker_id },
        el('td', {}, el('div', { class: 'wid', text: w.worker_id }), el('div', { class: 'muted small', text: w.current_task ? `running ${w.current_task}` : w.capabilities.join(', ') })),
        el('td', {}, pill(w.status)),
        el('td', { class: 'hb', 'data-at': w.last_heartbeat, text: ago(w.last_heartbeat), title: w.last_heartbeat }),
      ),
    );
    $('workers').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: '3', class: 'muted', text: 'no workers registered' }))]));
  }

  function renderMetrics() {
    const m = ui.state.metrics;
    const box = $('metrics');
    const metric = (value, label) => el('div', { class: 'metric' }, el('b', { text: value }), el('span', { text: label }));
    const spend = m.spend ? `$${m.spend.total_usd.toFixed(2)}` : '–';
    const avg = m.summary ? m.summary.tasks.avg_duration_seconds : null;
    const row = el(
      'div',
      { class: 'metric-row' },
      metric(`${Math.round(m.completion.ratio * 100)}%`, `completed (${m.completion.completed}/${m.completion.total})`),
      metric(String(m.completion.rate_per_hour), 'completed in the last hour'),
      metric(fmtDuration(avg), 'mean task duration'),
      metric(spend, m.spend ? `spend (${m.spend.events} events)` : 'spend (none recorded)'),
    );
    const withEst = m.durations.filter((d) => d.estimate_seconds);
    const dur = el('div', { class: 'dur' }, el('div', { class: 'muted small', text: withEst.length ? 'duration against estimate (bar: actual, line: estimate)' : 'no completed task with an estimate yet' }));
    const shown = withEst.slice(-12);
    const max = Math.max(1, ...shown.map((d) => Math.max(d.actual_seconds, d.estimate_seconds)));
    for (const d of shown) {
      const track = el('div', { class: 'track' }, el('div', { class: 'est' }), el('div', { class: `act${d.actual_seconds > d.estimate_seconds ? ' over' : ''}` }));
      track.children[0].style.width = `${(d.estimate_seconds / max) * 100}%`;
      track.children[1].style.width = `${(d.actual_seconds / max) * 100}%`;
      dur.append(el('div', { class: 'row' }, el('span', { text: d.task_id, title: d.task_id }), track, el('span', { text: `${fmtDuration(d.actual_seconds)} / ${fmtDuration(d.estimate_seconds)}` })));
    }
    box.replaceChildren(row, dur);
  }

  const liveProblems = [];
  function renderProblems() {
    const all = [...(ui.state ? ui.state.problems : []), ...liveProblems.filter((p) => !(ui.state && ui.state.problems.some((q) => q.file === p.file && q.line === p.line && q.kind === p.kind)))];
    $('problems').replaceChildren(...(all.length ? all.map((p) => el('li', { 'data-kind': p.kind, text: `${p.kind}: ${p.file}${p.line ? `:${p.line}` : ''} — ${p.message}` })) : [el('li', { class: 'none', text: 'none' })]));
    const badge = $('problem-count');
    badge.textContent = all.length ? `${all.length} problem${all.length === 1 ? '' : 's'}` : 'no problems';
    badge.className = `badge ${all.length ? 'badge-bad' : 'badge-ok'}`;
  }

  // ---------- plan / DAG ----------
  function selectWorkstream(ws) {
    ui.selectedWs = ws;
    history.replaceState(null, '', `#ws=${encodeURIComponent(ws)}`);
    for (const li of $('workstreams').children) li.classList.toggle('selected', li.dataset.ws === ws);
    void loadPlan();
  }

  async function loadPlan() {
    const ws = ui.selectedWs;
    if (!ws) return;
    const plan = await getJson(`/api/plan/${encodeURIComponent(ws)}`);
    if (ws !== ui.selectedWs) return;
    ui.plan = plan;
    drawDag();
  }

  function statusOf(taskId) {
    const t = ui.state && ui.state.tasks.find((x) => x.task_id === taskId);
    return t ? t.status : null;
  }

  function drawDag() {
    const p = ui.plan;
    $('dag-title').textContent = p.workstream_id;
    const facts = p.plan ? `critical path ${fmtDuration(p.plan.critical_path_duration)} · ${p.plan.stages.length} stage(s) · est. total ${fmtDuration(p.plan.total_estimated_duration)}` : 'no plan';
    $('plan-facts').textContent = facts;
    $('plan-problems').replaceChildren(...p.problems.map((m) => el('li', { text: m })));
    const root = $('dag');
    if (!p.dag) {
      root.replaceChildren();
      root.setAttribute('width', '0');
      root.setAttribute('height', '0');
      return;
    }
    const critical = new Set(p.plan ? p.plan.critical_path_tasks : []);
    const critPairs = new Set();
    if (p.plan) for (let i = 1; i < p.plan.critical_path_tasks.length; i++) critPairs.add(`${p.plan.critical_path_tasks[i - 1]}>${p.plan.critical_path_tasks[i]}`);
    const members = new Set(p.dag.nodes.map((n) => n.task_id));
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: 40, marginx: 16, marginy: 16 });
    g.setDefaultEdgeLabel(() => ({}));
    const widthOf = (id) => Math.max(NODE_W, Math.min(300, Math.ceil(measure(id)) + 22));
    for (const n of p.dag.nodes) g.setNode(n.task_id, { width: widthOf(n.task_id), height: NODE_H, node: n });
    for (const e of p.dag.edges) {
      // "from depends_on to": draw the arrow from the dependency to the dependent.
      for (const id of [e.from, e.to]) if (!members.has(id) && !g.hasNode(id)) g.setNode(id, { width: widthOf(id), height: NODE_H, external: e.external_workstream || 'other workstream' });
      g.setEdge(e.to, e.from, { external: !!e.external, critical: critPairs.has(`${e.to}>${e.from}`) });
    }
    dagre.layout(g);
    const gr = g.graph();
    // Fit the width of the card (down to 75 %, so text stays legible; larger graphs scroll).
    const avail = Math.max(200, $('dag-wrap').clientWidth - 4);
    const scale = Math.max(0.75, Math.min(1, avail / gr.width));
    root.setAttribute('width', String(Math.ceil(gr.width * scale)));
    root.setAttribute('height', String(Math.ceil(gr.height * scale)));
    root.setAttribute('viewBox', `0 0 ${Math.ceil(gr.width)} ${Math.ceil(gr.height)}`);
    const defs = svg('defs');
    for (const id of ['arrow', 'arrow-crit']) {
      const marker = svg('marker', { id, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
      marker.append(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z' }));
      defs.append(marker);
    }
    const edges = svg('g', { class: 'edges' });
    for (const ref of g.edges()) {
      const e = g.edge(ref);
      const d = e.points.map((pt, i) => `${i ? 'L' : 'M'}${pt.x.toFixed(1)},${pt.y.toFixed(1)}`).join(' ');
      edges.append(svg('path', { d, class: `edge${e.critical ? ' critical' : ''}${e.external ? ' external' : ''}`, 'marker-end': `url(#${e.critical ? 'arrow-crit' : 'arrow'})`, 'data-from': ref.v, 'data-to': ref.w }));
    }
    const nodes = svg('g', { class: 'nodes' });
    for (const id of g.nodes()) {
      const n = g.node(id);
      const group = svg('g', { class: `node${n.external ? ' external' : ''}${critical.has(id) ? ' critical' : ''}${ui.selectedTask === id ? ' selected' : ''}`, transform: `translate(${(n.x - n.width / 2).toFixed(1)},${(n.y - NODE_H / 2).toFixed(1)})`, 'data-task-id': id, 'data-status': n.external ? 'external' : statusOf(id) || n.node.status });
      const title = svg('title');
      title.textContent = n.external ? `${id} (in ${n.external})` : `${id}: ${n.node.name}`;
      group.append(title, svg('rect', { width: n.width, height: NODE_H, rx: 6, ry: 6 }));
      const t1 = svg('text', { x: 10, y: 18, class: 'nid' });
      t1.textContent = id;
      const t2 = svg('text', { x: 10, y: 35, class: 'nsub' });
      t2.textContent = fit(n.external ? `↗ ${n.external}` : `${statusOf(id) || n.node.status} · ${n.node.name}`, n.width - 20, '12px');
      group.append(t1, t2);
      if (!n.external) group.addEventListener('click', () => selectTask(id));
      nodes.append(group);
    }
    root.replaceChildren(defs, edges, nodes);
  }
  // Text widths from the same font the SVG uses (a canvas measures without drawing).
  const ctx = document.createElement('canvas').getContext('2d');
  const FONT = getComputedStyle(document.body).fontFamily;
  function measure(text, size = '700 12px') {
    ctx.font = `${size} ${FONT}`;
    return ctx.measureText(text).width;
  }
  function fit(text, width, size) {
    if (measure(text, size) <= width) return text;
    let lo = 0;
    let hi = text.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (measure(`${text.slice(0, mid)}…`, size) <= width) lo = mid;
      else hi = mid - 1;
    }
    return `${text.slice(0, lo)}…`;
  }

  function recolour(taskId, status) {
    const node = document.querySelector(`#dag .node[data-task-id="${CSS.escape(taskId)}"]`);
    if (!node || node.classList.contains('external')) return false;
    node.setAttribute('data-status', status);
    const sub = node.querySelector('.nsub');
    const t = ui.state && ui.state.tasks.find((x) => x.task_id === taskId);
    if (sub) sub.textContent = fit(`${status} · ${t ? t.name : ''}`, Number(node.querySelector('rect').getAttribute('width')) - 20, '12px');
    return true;
  }

  // ---------- task panel ----------
  async function selectTask(id) {
    ui.selectedTask = id;
    for (const n of document.querySelectorAll('#dag .node')) n.classList.toggle('selected', n.dataset.taskId === id);
    $('task-title').textContent = id;
    const view = await getJson(`/api/tasks/${encodeURIComponent(id)}`);
    if (ui.selectedTask !== id) return;
    renderTask(view);
  }

  // While the selected task runs, its log grows without events: re-read only the tail (cheap) every 2 s.
  let logTimer = null;
  function pollLog(v) {
    clearTimeout(logTimer);
    if (!v.task || !['running', 'validating'].includes(v.task.status) || !v.current_attempt) return;
    logTimer = setTimeout(async () => {
      if (ui.selectedTask !== v.task.task_id) return;
      try {
        const log = await getJson(`/api/tasks/${encodeURIComponent(v.task.task_id)}/log?attempt=${v.current_attempt}`);
        if (ui.selectedTask !== v.task.task_id) return;
        const pre = document.querySelector('#task pre.log');
        if (pre && log.exists) pre.textContent = log.text || '(empty)';
        else if (!pre && log.exists) return selectTask(v.task.task_id);
      } catch (err) {
        console.warn(String(err));
      }
      pollLog(v);
    }, 2000);
  }

  function renderTask(v) {
    pollLog(v);
    const box = $('task');
    const def = v.definition;
    const t = v.task;
    const kv = (pairs) => el('dl', { class: 'kv' }, ...pairs.flatMap(([k, val]) => [el('dt', { text: k }), el('dd', {}, val instanceof Node ? val : String(val ?? '–'))]));
    const parts = [];
    parts.push(
      kv([
        ['status', t ? pill(t.status) : 'not in the snapshot'],
        ['name', def ? def.name : '–'],
        ['workstream', t ? t.workstream_id : def ? def.workstream_id : '–'],
        ['retries', t ? `${t.retry_count} / ${t.max_retries}` : '–'],
        ['worker', t && t.assigned_worker ? t.assigned_worker : '–'],
        ['last error', t && t.last_error ? t.last_error : '–'],
      ]),
    );
    parts.push(el('h3', { text: 'Attempts' }));
    if (v.why && v.why.attempts.length) {
      parts.push(
        el(
          'table',
          { class: 'table attempts' },
          el('thead', {}, el('tr', {}, ...['#', 'worker', 'started', 'duration', 'outcome', 'error'].map((h) => el('th', { text: h })))),
          el('tbody', {}, ...v.why.attempts.map((a) => el('tr', {}, el('td', { text: String(a.attempt) }), el('td', { text: a.worker_id || '–' }), el('td', { text: clockOf(a.started_at) }), el('td', { text: a.duration_seconds === null ? 'running' : fmtDuration(a.duration_seconds) }), el('td', { text: a.outcome || '–' }), el('td', { text: a.error || '' })))),
        ),
      );
    } else parts.push(el('div', { class: 'muted small', text: 'no attempt yet' }));
    parts.push(el('h3', { text: 'Why' }));
    if (v.why) {
      parts.push(el('div', { class: 'explain', text: v.why.explanation }));
      const chain = [...v.why.causes.map((e) => ({ e, kind: 'cause' })), ...v.why.events.map((e) => ({ e, kind: 'own' })), ...v.why.effects.map((e) => ({ e, kind: 'effect' }))].sort((a, b) => a.e.seq - b.e.seq);
      parts.push(el('ol', { class: 'why' }, ...chain.map(({ e, kind }) => el('li', { class: kind, text: `seq ${e.seq} ${clockOf(e.timestamp)} ${kind === 'own' ? '' : `[${kind}: ${e.entity_type} ${e.entity_id}] `}${e.event}${e.from_state || e.to_state ? ` (${e.from_state || '∅'} → ${e.to_state || '∅'})` : ''}${e.error ? ` — ${e.error}` : ''}` }))));
    } else parts.push(el('div', { class: 'muted small', text: 'no event names this task yet' }));
    parts.push(el('h3', { text: v.log ? `Log — attempt ${v.log.attempt}${v.log.truncated ? ' (tail)' : ''}` : 'Log' }));
    if (v.log && v.log.exists) parts.push(el('pre', { class: 'log', text: v.log.text || '(empty)' }));
    else parts.push(el('div', { class: 'muted small', text: v.log_note || 'no log' }));
    if (def) {
      parts.push(el('h3', { text: 'Definition' }));
      parts.push(
        kv([
          ['file', v.definition_file],
          ['type', def.type],
          ['description', def.description],
          ['command', el('code', { text: def.execution ? def.execution.command : '' })],
          ['depends on', def.dependencies.length ? def.dependencies.join(', ') : 'nothing'],
          ['capabilities', def.worker_requirements ? def.worker_requirements.capabilities.join(', ') : '–'],
          ['estimate', def.execution && def.execution.estimated_duration_seconds ? fmtDuration(def.execution.estimated_duration_seconds) : '–'],
          ['timeout', def.execution ? fmtDuration(def.execution.timeout_seconds) : '–'],
        ]),
      );
    }
    box.replaceChildren(...parts);
  }

  // ---------- live feed ----------
  function describe(e) {
    const move = e.from_state || e.to_state ? `: ${e.from_state || '∅'} → ${e.to_state || '∅'}` : '';
    return `seq ${e.seq}  ${clockOf(e.timestamp)}  ${e.entity_type} ${e.entity_id}${move}  (${e.trigger || e.event})${e.metadata && e.metadata.error ? ` — ${e.metadata.error}` : ''}`;
  }
  function addFeed(e, fresh) {
    const feed = $('feed');
    const li = el('li', { class: `sev-${e.severity}${fresh ? ' fresh' : ''}`, 'data-seq': String(e.seq), text: describe(e) });
    feed.prepend(li);
    while (feed.children.length > FEED_MAX) feed.lastChild.remove();
    if (fresh) setTimeout(() => li.classList.remove('fresh'), 1500);
  }

  let stateTimer = null;
  let planTimer = null;
  function scheduleRefresh(touchesSelected, touchesTask) {
    if (!stateTimer) {
      // At most one snapshot read in flight; on a large repository the pause grows with the read's cost.
      stateTimer = setTimeout(async () => {
        const t0 = performance.now();
        try {
          ui.state = await getJson('/api/state');
          renderState();
          for (const t of ui.state.tasks) if (t.workstream_id === ui.selectedWs) recolour(t.task_id, t.status);
        } catch (err) {
          console.warn(String(err));
        }
        ui.stateCostMs = performance.now() - t0;
        stateTimer = null;
      }, Math.max(250, 2 * (ui.stateCostMs || 0)));
    }
    if (touchesSelected && !planTimer) {
      planTimer = setTimeout(() => {
        planTimer = null;
        loadPlan().catch((err) => console.warn(String(err)));
      }, 1200);
    }
    if (ui.selectedTask && touchesTask) {
      clearTimeout(scheduleRefresh.taskTimer);
      scheduleRefresh.taskTimer = setTimeout(() => ui.selectedTask && selectTask(ui.selectedTask).catch((err) => console.warn(String(err))), 400);
    }
  }

  function onTransition(msg) {
    const e = JSON.parse(msg.data);
    if (e.seq <= ui.historyUpTo) {
      // Recent history sent on the first connection: shown in the feed, already in the snapshot.
      if (e.seq > ui.feedMax) addFeed(e, false);
      ui.feedMax = Math.max(ui.feedMax, e.seq);
      return;
    }
    if (e.seq <= ui.lastSeq) return;
    ui.feedMax = e.seq;
    ui.lastSeq = e.seq;
    $('seq').textContent = String(e.seq);
    addFeed(e, true);
    let touches = false;
    if (e.entity_type === 'task' && e.to_state) {
      const t = ui.state && ui.state.tasks.find((x) => x.task_id === e.entity_id);
      if (t) t.status = e.to_state;
      touches = recolour(e.entity_id, e.to_state);
    }
    ui.applied[e.seq] = Date.now();
    document.body.dataset.seq = String(e.seq);
    // The plan (critical path, estimates from run history) changes when a task of the workstream ends or is retried.
    const ends = e.entity_type === 'task' && ['completed', 'failed', 'cancelled', 'retrying'].includes(e.to_state);
    // The task panel (its why chain reads the whole log) only when the event is about the selected task.
    const aboutTask = !!ui.selectedTask && (e.entity_id === ui.selectedTask || (e.metadata && e.metadata.task_id === ui.selectedTask));
    scheduleRefresh(ends && (touches || e.workstream_id === ui.selectedWs), aboutTask);
  }

  function connect() {
    const es = new EventSource(`/api/events?after=${Math.max(0, ui.lastSeq - 40)}`);
    const conn = $('conn');
    es.addEventListener('open', () => {
      conn.textContent = 'live';
      conn.className = 'conn conn-on';
    });
    es.addEventListener('error', () => {
      conn.textContent = 'reconnecting…';
      conn.className = 'conn conn-off';
    });
    es.addEventListener('transition', onTransition);
    es.addEventListener('problem', (msg) => {
      liveProblems.push(JSON.parse(msg.data));
      renderProblems();
    });
  }

  async function start() {
    try {
      ui.state = await getJson('/api/state');
      ui.lastSeq = ui.state.log_last_seq;
      ui.historyUpTo = ui.lastSeq;
      renderState();
      const legend = $('legend');
      legend.replaceChildren(...TASK_STATUSES.map((s) => el('span', {}, el('i', { class: `s-${s}` }), s)), el('span', {}, el('i', { class: 'crit' }), 'critical path'));
      connect();
      await loadPlan();
      document.body.dataset.ready = 'true';
    } catch (err) {
      $('problems').replaceChildren(el('li', { text: `cannot load the dashboard: ${err}` }));
      console.warn(String(err));
    }
  }
  setInterval(() => {
    for (const td of document.querySelectorAll('#workers .hb')) td.textContent = ago(td.dataset.at);
  }, 1000);
  start();
})();

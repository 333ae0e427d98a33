/**
 * What a person sees while `orc-state run` works: a live view on a TTY, plain
 * timestamped lines off a TTY, a JSON-lines event stream with --json, and the
 * end summary.
 *
 * Public API (internal):
 *   - createRunView(output, mode, options) → { onEvent(e), stop() }   mode: 'tty' | 'plain' | 'json'
 *   - formatSummary(summary, output) → string
 * TTY view (log-update 6): one line per running task (task, workstream, attempt,
 * elapsed against the estimate), a header with done/total, failures, spend and an ETA
 * from the remaining critical path (the sum of estimates of the not-yet-finished tasks
 * divided by -j, at least the longest running remainder), redrawn at most 10 times a
 * second; finished tasks are printed above it as permanent lines (so they can be
 * scrolled and copied, unlike full-screen TUIs).
 * Why log-update over listr2: listr2 renders a fixed list of tasks that all run
 * "concurrently" (every pending task shows a spinner), while the scheduler starts tasks
 * one by one as dependencies and resources allow; log-update redraws exactly the lines
 * we choose (tried both on this machine under tmux).
 * Integration points: src/cli/commands/run.ts.
 * Dependencies: log-update (loaded only for the TTY view), ../output.js, ../../scheduler/*.
 */
import type { Output } from '../output.js';
import type { RunEvent } from '../../scheduler/loop.js';
import type { RunSummary } from '../../scheduler/summary.js';

export type ViewMode = 'tty' | 'plain' | 'json';

function fmt(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const usd = (x: number) => `$${x.toFixed(x < 1 ? 4 : 2)}`;

export interface RunView {
  onEvent(e: RunEvent): void;
  stop(): void;
}

export async function createRunView(output: Output, mode: ViewMode, options: { stream?: NodeJS.WriteStream } = {}): Promise<RunView> {
  if (mode === 'json') {
    return {
      onEvent: (e) => {
        if (e.type === 'commit') return;
        output.out(JSON.stringify(e.type === 'run_finished' ? { type: e.type, at: e.at, summary: e.summary } : e));
      },
      stop: () => undefined,
    };
  }
  if (mode === 'plain') {
    return {
      onEvent: (e) => {
        const line = plainLine(e, output);
        if (line) output.out(`${e.at} ${line}`);
      },
      stop: () => undefined,
    };
  }
  const { createLogUpdate } = await import('log-update');
  const stream = options.stream ?? process.stderr;
  const draw = createLogUpdate(stream, { showCursor: false });
  const running = new Map<string, { ws: string; attempt: number; est: number; since: number; worker: string }>();
  let total = 0;
  let finished = 0;
  let failed = 0;
  let spend = 0;
  let jobs = 1;
  let remainingEstimate = 0;
  let stopping: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  const estimates = new Map<string, number>();
  const render = () => {
    const now = Date.now();
    let longest = 0;
    for (const r of running.values()) longest = Math.max(longest, r.est - (now - r.since) / 1000);
    const eta = Math.max(longest, remainingEstimate / Math.max(1, jobs));
    const head = `${output.paint('bold', 'orc-state run')}  ${finished}/${total} done${failed ? `  ${output.paint('red', `${failed} failed`)}` : ''}  ${running.size} running  spend ${usd(spend)}  ETA ~${fmt(eta)}${stopping ? `  ${output.paint('yellow', stopping)}` : ''}`;
    const lines = [head];
    const width = (stream.columns ?? 100) - 1;
    for (const [id, r] of [...running].sort((a, b) => a[1].since - b[1].since)) {
      const elapsed = (now - r.since) / 1000;
      const over = r.est > 0 && elapsed > r.est;
      const time = `${fmt(elapsed)}/${r.est > 0 ? fmt(r.est) : '?'}`;
      const line = `  ${output.paint('cyan', '▶')} ${id}  ${output.paint('dim', r.ws)}  attempt ${r.attempt}  ${over ? output.paint('yellow', time) : time}`;
      lines.push(line.length > width + 20 ? line.slice(0, width + 20) : line);
    }
    draw(lines.join('\n'));
  };
  const schedule = () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      render();
    }, 100);
  };
  const ticker = setInterval(render, 1000);
  ticker.unref();
  return {
    onEvent: (e) => {
      switch (e.type) {
        case 'run_started':
          total = e.tasks;
          jobs = e.jobs;
          break;
        case 'task_started':
          running.set(e.task_id, { ws: e.workstream_id, attempt: e.attempt, est: e.estimate_seconds, since: Date.now(), worker: e.worker_id });
          if (!estimates.has(e.task_id)) {
            estimates.set(e.task_id, e.estimate_seconds);
            remainingEstimate += e.estimate_seconds;
          }
          break;
        case 'task_finished': {
          running.delete(e.task_id);
          if (e.cost_usd !== null) spend += e.cost_usd;
          const terminal = e.status === 'completed' || e.status === 'failed' || e.status === 'cancelled';
          if (terminal) {
            finished++;
            remainingEstimate = Math.max(0, remainingEstimate - (estimates.get(e.task_id) ?? 0));
          }
          if (e.status === 'failed') failed++;
          draw.clear();
          stream.write(`${plainLine(e, output)}\n`);
          break;
        }
        case 'stopping':
          stopping = e.reason.split(':')[0] ?? 'stopping';
          draw.clear();
          stream.write(`${output.paint('yellow', e.reason)}\n`);
          break;
        case 'run_finished':
          draw.clear();
          return;
        default:
          break;
      }
      schedule();
    },
    stop: () => {
      clearInterval(ticker);
      if (timer) clearTimeout(timer);
      draw.clear();
      draw.done();
    },
  };
}

function plainLine(e: RunEvent, output: Output): string | null {
  switch (e.type) {
    case 'run_started':
      return `run ${e.run_id}: ${e.tasks} task(s), ${e.jobs} worker(s)${e.recovered.length ? `; recovered ${e.recovered.length} task(s) left running by a dead run: ${e.recovered.join(', ')}` : ''}`;
    case 'task_started':
      return `start  ${e.task_id} (${e.workstream_id}) attempt ${e.attempt} on ${e.worker_id} → ${e.log}`;
    case 'task_finished': {
      const mark = e.status === 'completed' ? output.paint('green', 'done ') : e.status === 'retrying' ? output.paint('yellow', 'retry') : output.paint('red', e.status === 'failed' ? 'FAIL ' : e.status.padEnd(5));
      const extra = e.status === 'retrying' && e.retry_in_ms !== null ? ` (next attempt in ${fmt(e.retry_in_ms / 1000)})` : '';
      return `${mark}  ${e.task_id} attempt ${e.attempt} ${fmt(e.duration_seconds)}${e.cost_usd !== null ? ` ${usd(e.cost_usd)}` : ''}${e.error ? `: ${e.error}` : ''}${extra}`;
    }
    case 'retry_ready':
      return `queue  ${e.task_id} (retry delay elapsed)`;
    case 'worker_health':
      return `worker ${e.worker_id}: ${e.trigger}`;
    case 'stopping':
      return output.paint('yellow', e.reason);
    default:
      return null;
  }
}

export function formatSummary(s: RunSummary, output: Output): string {
  const lines: string[] = [];
  const c = s.counts;
  const head = `${s.outcome === 'completed' ? output.paint('green', 'completed') : output.paint(s.outcome === 'interrupted' ? 'yellow' : 'red', s.outcome)}: ${c.completed}/${c.selected} completed` +
    [c.failed && `${c.failed} failed`, c.blocked && `${c.blocked} blocked`, c.unassignable && `${c.unassignable} unassignable`, c.over_budget && `${c.over_budget} over budget`, c.not_started && `${c.not_started} not started`, c.unfinished && `${c.unfinished} unfinished`].filter(Boolean).map((x) => `, ${x}`).join('') +
    ` in ${fmt(s.duration_seconds)} (-j ${s.jobs}, ${s.commits} commits)`;
  lines.push(output.paint('bold', `Run ${s.run_id}`));
  lines.push(head);
  const shown = s.tasks.filter((t) => t.outcome !== 'completed' || s.tasks.length <= 30);
  if (shown.length) {
    const w = Math.min(40, Math.max(...shown.map((t) => t.task_id.length)));
    for (const t of shown) {
      const cost = t.cost_usd !== null ? usd(t.cost_usd) : '';
      lines.push(`  ${t.outcome.padEnd(12)} ${t.task_id.padEnd(w)}  ${String(t.attempts).padStart(2)}×  ${fmt(t.duration_seconds).padStart(6)}/${fmt(t.estimated_duration_seconds).padEnd(6)} ${cost.padStart(8)}  ${output.paint('dim', t.log ?? '')}${t.reason ? `\n      ${t.reason}` : ''}`);
    }
  }
  if (s.tasks.length > 30 && shown.length < s.tasks.length) lines.push(output.paint('dim', `  (${s.tasks.length - shown.length} completed task(s) not listed; see the summary file)`));
  if (s.spend.total_usd > 0 || s.spend.budget_usd !== null) {
    lines.push(`spend ${usd(s.spend.total_usd)}${s.spend.budget_usd !== null ? ` of ${usd(s.spend.budget_usd)}` : ''}: ${Object.entries(s.spend.by_workstream).map(([w, x]) => `${w} ${usd(x)}`).join(', ') || 'nothing'}`);
  }
  if (s.recovered.length) lines.push(`recovered from a dead run: ${s.recovered.join(', ')}`);
  return lines.join('\n');
}

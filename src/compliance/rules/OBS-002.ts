/**
 * OBS-002 (MUST): the metrics are exported as Prometheus/OpenMetrics text:
 * .state/metrics.prom (written with metrics.json) exists, is valid exposition
 * text (HELP/TYPE before samples, names, label escaping, numeric values, no
 * duplicate series, `# EOF`), and equals the rendering of metrics.json.
 *
 * Public API (stable): rule.
 * Integration points: discovered by the compliance runner.
 * Dependencies: ../../derive/checks.js.
 */
import { exportFindings } from '../../derive/checks.js';
import type { Rule } from '../types.js';

export const rule: Rule = {
  id: 'OBS-002',
  level: 'MUST',
  section: 'metrics',
  title: 'Metrics export as Prometheus/OpenMetrics text',
  check(ctx) {
    const result = exportFindings(ctx.root);
    if (result.skip) return { skip: result.skip };
    return { findings: result.findings };
  },
};

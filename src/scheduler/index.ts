/**
 * The scheduler: `orc-state run` as a library (the run loop, dry run, admission,
 * backoff, health, clocks, the run summary).
 *
 * Public API (entry module; stability: experimental for runPlan/planRun, stable for the rest, as in each module):
 *   - runPlan, defaultJobs, RunOptions, RunResult, RunEvent (./loop.js)
 *   - planRun, DryRunReport (./dry-run.js)
 *   - ResourceLedger, conflictsBetween, selfConflict, RuntimeResource (./admission.js)
 *   - retryDelayMs, retryPolicyOf, isNonRetryableExit (./backoff.js)
 *   - HealthMonitor, probeProcess (./health.js)
 *   - Clock, systemClock, FakeClock (./clock.js)
 *   - runAttempt, adapterFor, checkOutputs (./attempt.js)
 *   - RunSummary, RUN_SUMMARY_VERSION (./summary.js); acquireRunLock, readRunLock (./run-lock.js)
 * Integration points: src/cli/commands/run.ts, src/index.ts, bench/run.ts.
 * Dependencies: the modules above.
 */
export { runPlan, defaultJobs, type RunOptions, type RunResult, type RunEvent } from './loop.js';
export { planRun, type DryRunReport } from './dry-run.js';
export { ResourceLedger, conflictsBetween, selfConflict, type RuntimeResource, type Admission } from './admission.js';
export { retryDelayMs, retryPolicyOf, isNonRetryableExit, DEFAULT_BACKOFF_COEFFICIENT, type RetryPolicy } from './backoff.js';
export { HealthMonitor, probeProcess, type HealthChange } from './health.js';
export { systemClock, FakeClock, type Clock } from './clock.js';
export { runAttempt, adapterFor, adapterTypeFor, checkOutputs, logPath, type AttemptOutcome, type AdapterType } from './attempt.js';
export { RUN_SUMMARY_VERSION, RUN_SUMMARY_URL, type RunSummary, type TaskOutcome } from './summary.js';
export { acquireRunLock, readRunLock, runLockIsStale, type RunLockInfo } from './run-lock.js';

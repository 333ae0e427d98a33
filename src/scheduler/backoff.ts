/**
 * Retry delays: exponential backoff with a cap and a little jitter, after
 * Temporal's retry policy (initial interval, backoff coefficient, maximum
 * interval, non-retryable errors).
 *
 * Public API (stable):
 *   - retryPolicyOf(task) → RetryPolicy: execution.retry_policy with defaults
 *   - retryDelayMs(task, n, random?) → ms before the n-th retry (n ≥ 1):
 *       min(max_delay_seconds, retry_delay_seconds × backoff_coefficient^(n−1)) × (1 ± jitter)
 *   - isNonRetryableExit(task, exitCode) → true when the exit code is listed in
 *     retry_policy.non_retryable_exit_codes
 *   - DEFAULT_BACKOFF_COEFFICIENT (2), DEFAULT_JITTER (0.1)
 * Defaults: coefficient 2; max_delay_seconds = 100 × retry_delay_seconds, at
 * least 1 s and at most 1 h (Temporal's default maximum interval is 100× the
 * initial one); jitter ±10 % (never beyond the cap).
 * Integration points: ./loop.ts records each planned delay in the retry event's metadata.
 * Dependencies: ../model.js (types).
 */
import type { TaskDefinition } from '../model.js';

export const DEFAULT_BACKOFF_COEFFICIENT = 2;
export const DEFAULT_JITTER = 0.1;

export interface RetryPolicy {
  initial_delay_seconds: number;
  backoff_coefficient: number;
  max_delay_seconds: number;
  non_retryable_exit_codes: number[];
}

interface RetryPolicyField {
  backoff_coefficient?: number;
  max_delay_seconds?: number;
  non_retryable_exit_codes?: number[];
}

export function retryPolicyOf(task: TaskDefinition): RetryPolicy {
  const p = ((task.execution as { retry_policy?: RetryPolicyField }).retry_policy ?? {}) as RetryPolicyField;
  const initial = typeof task.execution.retry_delay_seconds === 'number' && task.execution.retry_delay_seconds >= 0 ? task.execution.retry_delay_seconds : 0;
  const coefficient = typeof p.backoff_coefficient === 'number' && p.backoff_coefficient >= 1 ? p.backoff_coefficient : DEFAULT_BACKOFF_COEFFICIENT;
  const max = typeof p.max_delay_seconds === 'number' && p.max_delay_seconds >= 0 ? p.max_delay_seconds : Math.min(3600, Math.max(1, 100 * initial));
  const codes = Array.isArray(p.non_retryable_exit_codes) ? p.non_retryable_exit_codes.filter((c) => Number.isInteger(c)) : [];
  return { initial_delay_seconds: initial, backoff_coefficient: coefficient, max_delay_seconds: max, non_retryable_exit_codes: codes };
}

/** Milliseconds to wait before the n-th retry (n = retry_count after the failure, 1-based). */
export function retryDelayMs(task: TaskDefinition, n: number, random: () => number = Math.random, jitter = DEFAULT_JITTER): number {
  const p = retryPolicyOf(task);
  const exp = p.initial_delay_seconds * Math.pow(p.backoff_coefficient, Math.max(0, n - 1));
  const capped = Math.min(p.max_delay_seconds, exp);
  const factor = 1 + jitter * (random() * 2 - 1);
  return Math.round(Math.min(p.max_delay_seconds, capped * factor) * 1000);
}

export function isNonRetryableExit(task: TaskDefinition, exitCode: number | null | undefined): boolean {
  if (exitCode === null || exitCode === undefined) return false;
  return retryPolicyOf(task).non_retryable_exit_codes.includes(exitCode);
}

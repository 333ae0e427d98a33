/**
 * The RuleContext handed to every rule: the repo root, the fix flag and a
 * memo so expensive loads happen once per run.
 *
 * Public API (stable): createContext(root, { fix, profile, gate }) → RuleContext & { keys() }.
 * Key conventions (see common notes): 'tasks' → loadTasks(root),
 * 'capabilities' → loadCapabilities(root), 'resources' → loadResources(root),
 * 'snapshot' → the snapshot read, 'events' → the events array (rules read the
 * log through the one shared pass of src/engine/event-pass.ts, key 'event-pass',
 * instead). Rules must use exactly these keys for those loads so no file is read twice in one run.
 * Integration points: the runner creates one context per run.
 * Dependencies: ./types.js.
 */
import type { GateConfig, Profile } from './profile.js';
import type { RuleContext } from './types.js';

export interface RunContext extends RuleContext {
  /** Keys loaded so far (diagnostics and tests). */
  keys(): string[];
  /** Drop memoised loads (the runner calls this after --fix rewrote files). */
  invalidate(key?: string): void;
}

export function createContext(root: string, options: { fix?: boolean; profile?: Profile; gate?: GateConfig } = {}): RunContext {
  const memo = new Map<string, { value: unknown } | { error: unknown }>();
  return {
    root,
    fix: Boolean(options.fix),
    ...(options.profile ? { profile: options.profile } : {}),
    ...(options.gate ? { gate: options.gate } : {}),
    once<T>(key: string, load: () => T): T {
      let entry = memo.get(key);
      if (!entry) {
        try {
          entry = { value: load() };
        } catch (error) {
          // Memoise the failure too: every rule depending on it sees the same error, once.
          entry = { error };
        }
        memo.set(key, entry);
      }
      if ('error' in entry) throw entry.error;
      return entry.value as T;
    },
    keys: () => [...memo.keys()],
    invalidate(key?: string) {
      if (key === undefined) memo.clear();
      else memo.delete(key);
    },
  };
}

/**
 * The yaml package, loaded the first time a YAML text is parsed: most commands read no YAML (the machine
 * definitions come from a cache, registries are usually PowerShell data files), and loading the package
 * costs ~13 ms of start-up.
 *
 * Public API (internal): yamlLib() → the yaml module.
 * Integration points: src/machines/definitions.ts (lifecycle YAML), src/machines/upstream-yaml.ts (the
 * upstream layout), src/registry/index.ts (YAML registries).
 * Dependencies: yaml, node:module.
 */
import { createRequire } from 'node:module';

let loaded: typeof import('yaml') | undefined;

export function yamlLib(): typeof import('yaml') {
  return (loaded ??= createRequire(import.meta.url)('yaml') as typeof import('yaml'));
}

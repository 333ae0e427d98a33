#!/usr/bin/env bash
# Pack smoke test (issue 9, "Done when"): the package as npm ships it works in
# a user's empty repository.
#   npm pack → install the tarball in an empty temp dir → npx orc-state init →
#   add the guide's example task unchanged (tests/fixtures/adopt/guide-task-001.json)
#   → sync (init's next step) → validate --compliance exits 0 (runtime profile);
#   and init in a repo that already holds the task (adoption, no sync) → validate
#   exits 0 → --profile full reports the
#   missing documents (non-zero) → SARIF URIs are repo-relative → the drop-ins
#   run from node_modules with the upstream parameters.
# Also checks what the tarball holds (no bench, no tests, no source maps, LICENSE,
# drop-ins executable). Offline-friendly: dependencies come from npm's cache when
# they are there (--prefer-offline). Exit 0 when every step passes, 1 otherwise.
# Usage: scripts/pack-smoke.sh   (or npm run pack:smoke); KEEP=1 keeps the temp dir.
set -uo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/orc-pack-smoke-XXXXXX")"
if [ "${KEEP:-}" != 1 ]; then trap 'rm -rf "$work"' EXIT; else echo "keeping $work"; fi
failures=0
step() { printf '\n== %s\n' "$*"; }
ok() { printf 'ok   %s\n' "$*"; }
bad() { printf 'FAIL %s\n' "$*"; failures=$((failures + 1)); }

step "npm pack"
tarball="$(cd "$repo" && npm pack --silent --pack-destination "$work" 2>"$work/pack.err" | tail -n 1)"
if [ -z "$tarball" ] || [ ! -f "$work/$tarball" ]; then
  cat "$work/pack.err"
  bad "npm pack produced no tarball"
  exit 1
fi
ok "$tarball"

step "tarball contents"
list="$(tar -tzf "$work/$tarball")"
for want in package/LICENSE package/bin/orc-state.js package/dist/src/cli/main.js package/dist/src/index.d.ts \
  package/schemas/task.v2.0.0.schema.json package/dist/src/schema/validators/task.v2.0.0.cjs package/docs/state_machines/task_lifecycle.yaml \
  package/scripts/validate/drop-in.mjs package/scripts/validate/validate_compliance; do
  if printf '%s\n' "$list" | grep -qx "$want"; then ok "ships ${want#package/}"; else bad "missing ${want#package/}"; fi
done
unwanted="$(printf '%s\n' "$list" | grep -E '\.map$|^package/dist/(bench|tests|scripts)/|^package/(src|tests|bench|tasks|capabilities|specifications|\.state)/|^package/docs/(execution_model|failure_modes|operations|schema_migrations)/' || true)"
if [ -z "$unwanted" ]; then ok "no bench, tests, sources, source maps or project documents"; else bad "ships what users do not need:"; printf '  %s\n' $unwanted | head -20; fi
grep -q '"license": "MIT"' <(tar -xzOf "$work/$tarball" package/package.json) && grep -q 'MIT License' <(tar -xzOf "$work/$tarball" package/LICENSE) && ok "MIT license" || bad "license"

step "install into an empty directory"
app="$work/app"
mkdir -p "$app"
cp "$work/$tarball" "$app/"
cd "$app" || exit 1
if npm install --no-audit --no-fund --prefer-offline "./$tarball" >"$work/install.log" 2>&1; then ok "npm install ./$tarball"; else cat "$work/install.log"; bad "npm install"; exit 1; fi
pkg="$app/node_modules/orc-state"
for f in "$pkg"/scripts/validate/validate_*; do
  [ -x "$f" ] || bad "$(basename "$f") is not executable in node_modules"
done

step "npx orc-state init"
if npx --no-install orc-state init >"$work/init.out" 2>&1; then ok "init"; else cat "$work/init.out"; bad "init"; fi

step "add the guide's example task unchanged"
mkdir -p tasks/ws-001
cp "$repo/tests/fixtures/adopt/guide-task-001.json" tasks/ws-001/task-001.json
cmp -s "$repo/tests/fixtures/adopt/guide-task-001.json" tasks/ws-001/task-001.json && ok "tasks/ws-001/task-001.json" || bad "copy"

step "npx orc-state sync (the next step init prints)"
if npx --no-install orc-state sync >"$work/sync.out" 2>&1; then ok "sync"; else cat "$work/sync.out"; bad "sync"; fi

step "npx orc-state validate --compliance (runtime profile) exits 0"
npx --no-install orc-state validate --compliance >"$work/runtime.out" 2>&1
code=$?
if [ "$code" -eq 0 ]; then ok "exit 0"; else cat "$work/runtime.out"; bad "validate --compliance exited $code"; fi
grep -Eq '^N/A +EXEC-DOC-001' "$work/runtime.out" && ok "document requirements are N/A, not PASS" || bad "EXEC-DOC-001 is not reported N/A"

step "npx orc-state validate --compliance --profile full reports the missing documents"
npx --no-install orc-state validate --compliance --profile full >"$work/full.out" 2>&1
code=$?
if [ "$code" -ne 0 ]; then ok "exit $code"; else bad "--profile full passed in an empty repo"; fi
for doc in docs/execution_model/OVERVIEW.md docs/failure_modes/CATALOG.md docs/operations/AUDIT_RETENTION.md docs/schema_migrations; do
  grep -q "$doc" "$work/full.out" && ok "names $doc" || bad "does not name $doc"
done

step "adoption: init in a repo that already holds the guide's task registers it (no sync), validate exits 0"
adopt="$work/adopt"
mkdir -p "$adopt/tasks/ws-001"
cp "$repo/tests/fixtures/adopt/guide-task-001.json" "$adopt/tasks/ws-001/task-001.json"
ln -s "$app/node_modules" "$adopt/node_modules"
(cd "$adopt" && npx --no-install orc-state init >"$work/adopt-init.out" 2>&1) || { cat "$work/adopt-init.out"; bad "init in a repo with tasks"; }
(cd "$adopt" && npx --no-install orc-state validate --compliance >"$work/adopt.out" 2>&1)
code=$?
if [ "$code" -eq 0 ]; then ok "validate --compliance after init alone: exit 0"; else grep -E '^(FAIL|ERROR)' -A2 "$work/adopt.out"; bad "validate after init alone exited $code"; fi

step "SARIF URIs are repo-relative"
npx --no-install orc-state validate --compliance --profile full --format sarif=out.sarif >/dev/null 2>&1
if node -e '
  const s = JSON.parse(require("fs").readFileSync("out.sarif", "utf8"));
  const uris = s.runs.flatMap((r) => r.results.map((x) => x.locations[0].physicalLocation.artifactLocation.uri));
  const bad = uris.filter((u) => u.startsWith("/") || /^[a-z]+:/i.test(u) || u.includes("node_modules") || u.startsWith(".."));
  if (uris.length === 0 || bad.length) { console.error(uris.length ? bad.join("\n") : "no results"); process.exit(1); }
  console.log(uris.length + " results, e.g. " + uris[0]);'; then ok "SARIF"; else bad "SARIF URIs"; fi

step "drop-ins from node_modules with the upstream parameters"
npx --no-install orc-state validate --compliance >/dev/null 2>&1
cli=$?
"$pkg/scripts/validate/validate_compliance" -StateDir .state -TasksDir tasks -DocsDir docs -SchemaVersion 2.0.0 -VerboseOutput -Verbose >"$work/dropin.out" 2>&1
code=$?
if [ "$code" -eq "$cli" ]; then ok "validate_compliance -StateDir -TasksDir -DocsDir -SchemaVersion -VerboseOutput -Verbose → exit $code (= CLI)"; else cat "$work/dropin.out"; bad "validate_compliance exit $code, CLI $cli"; fi
sh "$pkg/scripts/validate/validate_task_defs" -tasksdir tasks -Sch 2.0.0 -vb -ErrorAction Stop >"$work/dropin2.out" 2>&1
code=$?
npx --no-install orc-state validate --section tasks >/dev/null 2>&1
cli=$?
if [ "$code" -eq "$cli" ]; then ok "validate_task_defs -tasksdir -Sch -vb -ErrorAction → exit $code (= CLI)"; else cat "$work/dropin2.out"; bad "validate_task_defs exit $code, CLI $cli"; fi
for s in validate_state_obs validate_dag_structure validate_failure_modes; do
  "$pkg/scripts/validate/$s" -StateDir .state -TasksDir tasks >/dev/null 2>&1
  code=$?
  [ "$code" -le 1 ] && ok "$s → exit $code" || bad "$s exit $code"
done
"$pkg/scripts/validate/validate_compliance" -Bogus >/dev/null 2>&1
[ $? -eq 2 ] && ok "an unknown parameter is a usage error (exit 2)" || bad "unknown parameter accepted"

step "a shell task: npx orc-state run, then serve shows it"
mkdir -p tasks/ws-002
cat > tasks/ws-002/hello.json <<'JSON'
{
  "schema_version": "2.1.0",
  "task_id": "hello",
  "workstream_id": "ws-002",
  "name": "Say hello",
  "description": "A local, quick shell task",
  "type": "custom",
  "status": "pending",
  "dependencies": [],
  "blocks": [],
  "worker_requirements": { "capabilities": ["shell"] },
  "execution": { "command": "echo hello > hello.txt", "timeout_seconds": 30, "max_retries": 0 },
  "outputs": ["hello.txt"],
  "state": { "created_at": "2026-01-01T00:00:00.000Z", "retry_count": 0 }
}
JSON
npx --no-install orc-state run ws-002 --dry-run >"$work/dry.out" 2>&1 && grep -q hello "$work/dry.out" && ok "run --dry-run lists the task" || { cat "$work/dry.out"; bad "run --dry-run"; }
if npx --no-install orc-state run ws-002 >"$work/run.out" 2>&1 && [ -f hello.txt ]; then ok "run ws-002: exit 0, output written"; else cat "$work/run.out"; bad "run ws-002"; fi
npx --no-install orc-state status --json | node -e 'const s=JSON.parse(require("fs").readFileSync(0,"utf8"));process.exit(JSON.stringify(s).includes("hello")?0:1)' && ok "status shows it" || bad "status"
npx --no-install orc-state serve --port 0 --json >"$work/serve.out" 2>&1 &
serve_pid=$!
url=""
for _ in $(seq 1 50); do url="$(node -e 'try{const l=require("fs").readFileSync(process.argv[1],"utf8").split("\n").find(x=>x.startsWith("{"));if(l)console.log(JSON.parse(l).url)}catch{}' "$work/serve.out")"; [ -n "$url" ] && break; sleep 0.2; done
if [ -n "$url" ] && node -e 'fetch(process.argv[1]+"api/tasks/hello").then(r=>r.json()).then(j=>process.exit(JSON.stringify(j).includes("completed")?0:1)).catch(()=>process.exit(1))' "${url%/}/"; then ok "serve: $url shows hello completed"; else cat "$work/serve.out"; bad "serve"; fi
kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null

printf '\n'
if [ "$failures" -eq 0 ]; then echo "pack smoke: every step passed"; exit 0; fi
echo "pack smoke: $failures step(s) failed"
exit 1

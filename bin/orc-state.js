#!/usr/bin/env node
// `--version` alone answers without loading the CLI (start-up within 1.5x of `node -e 0`); same constant as the program's.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const { PACKAGE_VERSION } = await import('../dist/src/core/versions.js');
  process.stdout.write(`${PACKAGE_VERSION}\n`);
} else {
  const { main } = await import('../dist/src/cli/main.js');
  process.exitCode = await main(process.argv);
}

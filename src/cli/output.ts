/**
 * Terminal output helpers shared by every command.
 *
 * Public API (stable): createOutput, Output.
 * Integration points: every file in src/cli/commands prints through an Output
 * so NO_COLOR, FORCE_COLOR and non-TTY streams are honoured in one place.
 * Dependencies: node:tty only.
 */

export interface Output {
  /** True when ANSI colour may be used on stdout. */
  readonly color: boolean;
  /** True when stderr is an interactive terminal (progress is shown only then). */
  readonly interactive: boolean;
  out(text: string): void;
  err(text: string): void;
  json(value: unknown): void;
  paint(style: 'red' | 'green' | 'yellow' | 'cyan' | 'dim' | 'bold', text: string): string;
  /** A single updating progress line on stderr; silent when not interactive. */
  progress(text: string): void;
  progressDone(): void;
}

const CODES = { red: 31, green: 32, yellow: 33, cyan: 36, dim: 2, bold: 1 } as const;

export function colorEnabled(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

export function createOutput(
  stdout: NodeJS.WriteStream = process.stdout,
  stderr: NodeJS.WriteStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Output {
  const color = colorEnabled(stdout, env);
  const interactive = Boolean(stderr.isTTY) && env.CI === undefined;
  let progressShown = false;
  return {
    color,
    interactive,
    out: (text) => void stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => void stderr.write(text.endsWith('\n') ? text : `${text}\n`),
    json: (value) => void stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    paint: (style, text) => (color ? `\u001b[${CODES[style]}m${text}\u001b[0m` : text),
    progress(text) {
      if (!interactive) return;
      progressShown = true;
      stderr.write(`\r\u001b[2K${text}`);
    },
    progressDone() {
      if (progressShown) stderr.write('\r\u001b[2K');
      progressShown = false;
    },
  };
}

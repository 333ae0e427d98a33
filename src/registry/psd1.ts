/**
 * Parser for the PowerShell data-file (.psd1) subset used by the capability and
 * resource registries: literal data only, with located errors. No pwsh needed.
 *
 * Public API (stable): parsePsd1(text, file, requirement) → Psd1Result, Psd1Result.
 * Supported: `@{ }` hashtables (entries separated by `;` or newlines, bare or
 * quoted keys), `@( )` arrays (comma or newline separated) and bare comma
 * lists (`'a', 'b'`), single-quoted strings (`''` escape), double-quoted
 * strings (backtick escapes `0 `a `b `f `n `r `t `v `" `' `` `$ and `""`),
 * here-strings `@' '@` and `@" "@`, integers, decimals, exponents, hex and
 * negatives, `$true`, `$false`, `$null`, `#` line comments and `<# #>` block
 * comments. Anything else (variables, `$(...)` subexpressions, commands,
 * `[type]` casts, scriptblocks) is a located error "psd1 files may only contain
 * literal data". Keys are matched case-sensitively; a key repeated in one
 * hashtable (compared case-insensitively, as PowerShell does) is an error;
 * `__proto__`/`constructor`/`prototype` keys are refused. Hashtables come back
 * as null-prototype objects.
 * Integration points: src/registry/index.ts.
 * Dependencies: ../io/json-scan.js (offsets → line/column), ../model.js.
 */
import { FORBIDDEN_KEYS, offsetToLineColumn } from '../io/json-scan.js';
import type { Finding } from '../model.js';

export type Psd1Value = string | number | boolean | null | Psd1Value[] | { [key: string]: Psd1Value };

interface LocNode {
  offset: number;
  keyOffsets?: Map<string, number>;
  children?: Map<string | number, LocNode>;
}

export type Psd1Result =
  | { ok: true; value: Psd1Value; locate: (path: ReadonlyArray<string | number>, opts?: { key?: boolean }) => { line: number; column: number } }
  | { ok: false; findings: Finding[] };

class Psd1Error extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly fix: string,
  ) {
    super(message);
  }
}

const LITERAL_ONLY = 'psd1 files may only contain literal data';

export function parsePsd1(rawText: string, file: string, requirement: string): Psd1Result {
  const text = rawText.charCodeAt(0) === 0xfeff ? rawText.slice(1) : rawText;
  const p = new Parser(text);
  try {
    p.skipTrivia(true);
    if (p.pos >= text.length) throw new Psd1Error('the file is empty: expected a hashtable @{ ... }', 0, 'write the registry as @{ ... }');
    const { value, loc } = p.parseValue(true);
    p.skipTrivia(true);
    if (p.pos < text.length) throw new Psd1Error(`unexpected ${p.describeHere()} after the end of the data`, p.pos, 'remove it: a data file holds exactly one value, usually a hashtable @{ ... }');
    const locate = (path: ReadonlyArray<string | number>, opts?: { key?: boolean }) => {
      let node = loc;
      let keyOffset: number | undefined;
      for (const seg of path) {
        const next = node.children?.get(seg);
        if (!next) {
          keyOffset = undefined;
          break;
        }
        keyOffset = typeof seg === 'string' ? node.keyOffsets?.get(seg) : undefined;
        node = next;
      }
      return offsetToLineColumn(text, opts?.key && keyOffset !== undefined ? keyOffset : node.offset);
    };
    return { ok: true, value, locate };
  } catch (err) {
    if (err instanceof Psd1Error) {
      const at = offsetToLineColumn(text, err.offset);
      return { ok: false, findings: [{ requirement, severity: 'error', file, line: at.line, column: at.column, message: err.message, fix: err.fix }] };
    }
    throw err;
  }
}

class Parser {
  pos = 0;
  constructor(readonly text: string) {}

  describeHere(): string {
    const ch = this.text[this.pos];
    if (ch === undefined) return 'end of file';
    const word = /^[^\s;,)}]+/.exec(this.text.slice(this.pos, this.pos + 40))?.[0] ?? ch;
    return `"${word}"`;
  }

  /** Skip spaces and comments; newlines too when `newlines`. Returns true if a newline was crossed. */
  skipTrivia(newlines: boolean): boolean {
    const t = this.text;
    let crossed = false;
    while (this.pos < t.length) {
      const c = t[this.pos]!;
      if (c === ' ' || c === '\t' || c === '\f' || c === '\v' || c === '\u00a0') this.pos++;
      else if (c === '\r' || c === '\n') {
        if (!newlines) return crossed;
        crossed = true;
        this.pos++;
      } else if (c === '`' && (t[this.pos + 1] === '\n' || (t[this.pos + 1] === '\r' && t[this.pos + 2] === '\n'))) {
        this.pos += t[this.pos + 1] === '\r' ? 3 : 2; // line continuation
      } else if (c === '#') {
        while (this.pos < t.length && t[this.pos] !== '\n') this.pos++;
      } else if (c === '<' && t[this.pos + 1] === '#') {
        const end = t.indexOf('#>', this.pos + 2);
        if (end === -1) throw new Psd1Error('block comment <# is never closed', this.pos, 'add #> where the comment ends');
        if (t.slice(this.pos, end).includes('\n')) crossed = true;
        this.pos = end + 2;
      } else break;
    }
    return crossed;
  }

  parseValue(allowList: boolean): { value: Psd1Value; loc: LocNode } {
    const first = this.parseSingle();
    if (!allowList) return first;
    // Bare comma list: 'a', 'b'  (continues across newlines after a comma)
    const save = this.pos;
    this.skipTrivia(false);
    if (this.text[this.pos] !== ',') {
      this.pos = save;
      return first;
    }
    const items = [first.value];
    const loc: LocNode = { offset: first.loc.offset, children: new Map([[0, first.loc]]) };
    while (this.text[this.pos] === ',') {
      this.pos++;
      this.skipTrivia(true);
      const next = this.parseSingle();
      loc.children!.set(items.length, next.loc);
      items.push(next.value);
      const s = this.pos;
      this.skipTrivia(false);
      if (this.text[this.pos] !== ',') {
        this.pos = s;
        break;
      }
    }
    return { value: items, loc };
  }

  parseSingle(): { value: Psd1Value; loc: LocNode } {
    const t = this.text;
    const start = this.pos;
    const c = t[start];
    if (c === undefined) throw new Psd1Error('unexpected end of file: a value is missing', start, 'complete the value or close the open @{ / @(');
    if (c === '@') {
      const n = t[start + 1];
      if (n === '{') return this.parseHashtable();
      if (n === '(') return this.parseArray();
      if (n === "'" || n === '"') return { value: this.parseHereString(n), loc: { offset: start } };
      throw new Psd1Error(`${LITERAL_ONLY}: "@${n ?? ''}" is not a hashtable @{ }, array @( ) or here-string`, start, 'write @{ ... } for a hashtable or @( ... ) for an array');
    }
    if (c === "'") return { value: this.parseSingleQuoted(), loc: { offset: start } };
    if (c === '"') return { value: this.parseDoubleQuoted(), loc: { offset: start } };
    if (c === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_:]*)/.exec(t.slice(start, start + 64));
      const name = m?.[1]?.toLowerCase();
      if (name === 'true' || name === 'false' || name === 'null') {
        this.pos += m![0].length;
        return { value: name === 'true' ? true : name === 'false' ? false : null, loc: { offset: start } };
      }
      throw new Psd1Error(
        `${LITERAL_ONLY}: ${m ? `variable $${m[1]}` : t[start + 1] === '(' ? 'subexpression $( )' : '"$"'} is not allowed`,
        start,
        'replace it with the literal value (quote text in single quotes; only $true, $false and $null are allowed)',
      );
    }
    const num = /^[+-]?(?:0[xX][0-9A-Fa-f]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(?![A-Za-z0-9_.])/.exec(t.slice(start, start + 64));
    if (num) {
      this.pos += num[0].length;
      const s = num[0];
      const neg = s.startsWith('-');
      const body = s.replace(/^[+-]/, '');
      const v = /^0[xX]/.test(body) ? parseInt(body.slice(2), 16) : Number(body);
      return { value: neg ? -v : v, loc: { offset: start } };
    }
    if (c === '{') throw new Psd1Error(`${LITERAL_ONLY}: a scriptblock { } is not allowed (did you mean @{ }?)`, start, 'write a hashtable as @{ ... }');
    if (c === '[') throw new Psd1Error(`${LITERAL_ONLY}: type casts like [int] are not allowed`, start, 'remove the cast and write the literal value');
    if (c === '(') throw new Psd1Error(`${LITERAL_ONLY}: parenthesised expressions are not allowed`, start, 'write the literal value (use @( ... ) for an array)');
    throw new Psd1Error(`${LITERAL_ONLY}: ${this.describeHere()} is not a literal (strings need quotes)`, start, `put text in quotes, e.g. '${(/^[^\s;,)}]+/.exec(t.slice(start, start + 40))?.[0] ?? '').replace(/'/g, "''")}'`);
  }

  parseHashtable(): { value: Psd1Value; loc: LocNode } {
    const t = this.text;
    const start = this.pos;
    this.pos += 2;
    const obj = Object.create(null) as { [key: string]: Psd1Value };
    const loc: LocNode = { offset: start, keyOffsets: new Map(), children: new Map() };
    const seen = new Map<string, number>();
    for (;;) {
      this.skipTrivia(true);
      while (t[this.pos] === ';') {
        this.pos++;
        this.skipTrivia(true);
      }
      const c = t[this.pos];
      if (c === undefined) throw new Psd1Error('hashtable @{ is never closed', start, 'add the closing } for this @{');
      if (c === '}') {
        this.pos++;
        return { value: obj, loc };
      }
      const keyStart = this.pos;
      let key: string;
      if (c === "'") key = this.parseSingleQuoted();
      else if (c === '"') key = this.parseDoubleQuoted();
      else {
        const m = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(t.slice(this.pos, this.pos + 256));
        if (!m) throw new Psd1Error(`expected a key (a name or a quoted string), found ${this.describeHere()}`, this.pos, "write entries as Name = 'value'");
        key = m[0];
        this.pos += key.length;
      }
      if (FORBIDDEN_KEYS.has(key)) throw new Psd1Error(`key "${key}" is not allowed`, keyStart, `rename the "${key}" key`);
      const lower = key.toLowerCase();
      const prev = seen.get(lower);
      if (prev !== undefined) {
        const at = offsetToLineColumn(t, prev);
        throw new Psd1Error(`duplicate key "${key}" in this hashtable (first at line ${at.line}, column ${at.column}; PowerShell keys ignore case)`, keyStart, `keep one "${key}" entry`);
      }
      seen.set(lower, keyStart);
      this.skipTrivia(false);
      if (t[this.pos] !== '=') throw new Psd1Error(`expected "=" after key "${key}", found ${this.describeHere()}`, this.pos, `write ${key} = <value>`);
      this.pos++;
      this.skipTrivia(false);
      if (t[this.pos] === '\n' || t[this.pos] === '\r' || this.pos >= t.length) {
        throw new Psd1Error(`key "${key}" has no value`, this.pos, `write the value on the same line: ${key} = <value>`);
      }
      const { value, loc: vloc } = this.parseValue(true);
      obj[key] = value;
      loc.keyOffsets!.set(key, keyStart);
      loc.children!.set(key, vloc);
      this.skipTrivia(false);
      const d = t[this.pos];
      if (d === ';' || d === '\n' || d === '\r' || d === '}' || d === undefined) continue;
      throw new Psd1Error(`expected ";", a new line or "}" after the value of "${key}", found ${this.describeHere()}`, this.pos, 'put each entry on its own line or separate entries with ";"');
    }
  }

  parseArray(): { value: Psd1Value; loc: LocNode } {
    const t = this.text;
    const start = this.pos;
    this.pos += 2;
    const items: Psd1Value[] = [];
    const loc: LocNode = { offset: start, children: new Map() };
    let needSep = false;
    for (;;) {
      const crossed = this.skipTrivia(true);
      const c = t[this.pos];
      if (c === undefined) throw new Psd1Error('array @( is never closed', start, 'add the closing ) for this @(');
      if (c === ')') {
        this.pos++;
        return { value: items, loc };
      }
      if (c === ',') {
        if (!needSep) throw new Psd1Error('unexpected "," in array (an element is missing)', this.pos, 'remove the extra comma');
        this.pos++;
        needSep = false;
        this.skipTrivia(true);
        if (t[this.pos] === ')') throw new Psd1Error('trailing "," before ")"', this.pos - 1, 'remove the comma after the last element');
        continue;
      }
      if (c === ';') {
        this.pos++;
        needSep = false;
        continue;
      }
      if (needSep && !crossed) throw new Psd1Error(`expected "," or ")" between array elements, found ${this.describeHere()}`, this.pos, 'separate elements with "," or new lines');
      const { value, loc: vloc } = this.parseSingle();
      loc.children!.set(items.length, vloc);
      items.push(value);
      needSep = true;
    }
  }

  parseSingleQuoted(): string {
    const t = this.text;
    const start = this.pos;
    let out = '';
    let i = start + 1;
    for (;;) {
      const j = t.indexOf("'", i);
      if (j === -1) throw new Psd1Error("string ' is never closed", start, "add the closing ' (write '' for a quote inside the string)");
      out += t.slice(i, j);
      if (t[j + 1] === "'") {
        out += "'";
        i = j + 2;
        continue;
      }
      this.pos = j + 1;
      return out;
    }
  }

  private escapes: Record<string, string> = { '0': '\0', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', e: '\x1b' };

  parseDoubleQuoted(): string {
    const t = this.text;
    const start = this.pos;
    let out = '';
    let i = start + 1;
    while (i < t.length) {
      const c = t[i]!;
      if (c === '`') {
        const n = t[i + 1];
        if (n === undefined) break;
        out += this.escapes[n] ?? n;
        i += 2;
      } else if (c === '"') {
        if (t[i + 1] === '"') {
          out += '"';
          i += 2;
        } else {
          this.pos = i + 1;
          return out;
        }
      } else if (c === '$' && /[A-Za-z_{(]/.test(t[i + 1] ?? '')) {
        throw new Psd1Error(`${LITERAL_ONLY}: "${t.slice(i, i + 2)}..." inside a double-quoted string expands a variable or expression`, i, 'escape the dollar sign as `$ or use a single-quoted string');
      } else {
        out += c;
        i++;
      }
    }
    throw new Psd1Error('string " is never closed', start, 'add the closing " (write `" or "" for a quote inside the string)');
  }

  parseHereString(quote: "'" | '"'): string {
    const t = this.text;
    const start = this.pos;
    let i = start + 2;
    while (t[i] === ' ' || t[i] === '\t') i++;
    if (t[i] === '\r') i++;
    if (t[i] !== '\n') throw new Psd1Error(`here-string @${quote} must be followed by a line break`, start, `start the content on the next line after @${quote}`);
    const bodyStart = i + 1;
    const closeRe = quote === "'" ? /\r?\n'@/g : /\r?\n"@/g;
    closeRe.lastIndex = i;
    const m = closeRe.exec(t);
    // An empty here-string closes right away on the next line.
    let bodyEnd: number;
    let after: number;
    if (t.startsWith(`${quote}@`, bodyStart)) {
      bodyEnd = bodyStart;
      after = bodyStart + 2;
    } else if (m) {
      bodyEnd = m.index;
      after = m.index + m[0].length;
    } else throw new Psd1Error(`here-string @${quote} is never closed`, start, `end it with ${quote}@ at the start of a line`);
    const body = t.slice(bodyStart, bodyEnd).replace(/\r\n/g, '\n');
    this.pos = after;
    if (quote === "'") return body;
    let out = '';
    for (let k = 0; k < body.length; k++) {
      const c = body[k]!;
      if (c === '`' && k + 1 < body.length) {
        const n = body[++k]!;
        out += this.escapes[n] ?? n;
      } else if (c === '$' && /[A-Za-z_{(]/.test(body[k + 1] ?? '')) {
        throw new Psd1Error(`${LITERAL_ONLY}: "$${body[k + 1]}..." inside a here-string expands a variable or expression`, bodyStart + k, "escape the dollar sign as `$ or use a single-quoted here-string @' '@");
      } else out += c;
    }
    return out;
  }
}

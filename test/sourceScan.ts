/**
 * A small lexer for our TypeScript sources: the module specifiers a file imports and the string
 * literals it contains, with comments left out. Why this module exists: the layering test
 * (test/layers.test.ts) checks the import graph between top-level folders and that no protocol name
 * is written outside its package; a regular expression over raw text would count comments and miss
 * template literals, and the TypeScript compiler in use (tsgo) has no JavaScript parser API.
 */

/** A string literal (or the text of a template literal between substitutions), by line. */
export interface StringPiece {
  readonly text: string;
  readonly line: number;
}

/** What a source file imports and which strings it holds. */
export interface SourceScan {
  /** Module specifiers of `import ... from`, `export ... from`, `import '...'` and `import('...')`. */
  readonly imports: readonly StringPiece[];
  /** Every string literal and template text, comments excluded. */
  readonly strings: readonly StringPiece[];
}

type Token = { readonly kind: 'word' | 'punct' | 'str' | 'tmpl'; readonly text: string; readonly line: number };

/** Keywords after which a `/` starts a regular expression, not a division. */
const REGEX_AFTER = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'yield', 'await', 'instanceof']);

/** Splits `src` into words, punctuation, string literals and template texts. */
function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  const last = () => out[out.length - 1];
  const regexAllowed = () => {
    const t = last();
    if (!t) return true;
    if (t.kind === 'str' || t.kind === 'tmpl') return false;
    if (t.kind === 'word') return REGEX_AFTER.has(t.text);
    return !(t.text === ')' || t.text === ']' || t.text === '}');
  };
  // Reads a quoted string starting at i (the quote); returns its contents, escapes kept raw.
  const quoted = (q: string): string => {
    let s = '';
    i++;
    while (i < src.length && src[i] !== q) {
      if (src[i] === '\\') {
        s += src[i] + (src[i + 1] ?? '');
        i += 2;
        continue;
      }
      if (src[i] === '\n') line++;
      s += src[i++];
    }
    i++;
    return s;
  };
  // Reads a template literal starting at i (the backtick); its substitutions are tokenized in place.
  const template = (): void => {
    i++;
    let text = '';
    let startLine = line;
    while (i < src.length && src[i] !== '`') {
      if (src[i] === '\\') {
        text += src[i] + (src[i + 1] ?? '');
        i += 2;
      } else if (src[i] === '$' && src[i + 1] === '{') {
        out.push({ kind: 'tmpl', text, line: startLine });
        text = '';
        i += 2;
        code('}');
        i++;
        startLine = line;
      } else {
        if (src[i] === '\n') line++;
        text += src[i++];
      }
    }
    out.push({ kind: 'tmpl', text, line: startLine });
    i++;
  };
  // Tokenizes code until the unmatched `close` (or the end).
  const code = (close: string | null): void => {
    let depth = 0;
    while (i < src.length) {
      const c = src[i] as string;
      const d = src[i + 1];
      if (c === '\n') {
        line++;
        i++;
      } else if (/\s/.test(c)) i++;
      else if (c === '/' && d === '/') while (i < src.length && src[i] !== '\n') i++;
      else if (c === '/' && d === '*') {
        const end = src.indexOf('*/', i + 2);
        const stop = end < 0 ? src.length : end + 2;
        for (let k = i; k < stop; k++) if (src[k] === '\n') line++;
        i = stop;
      } else if (c === "'" || c === '"') {
        const l = line;
        out.push({ kind: 'str', text: quoted(c), line: l });
      } else if (c === '`') template();
      else if (c === '/' && regexAllowed()) {
        // A regular expression literal: skip it (escapes and character classes may hold a `/`).
        i++;
        let inClass = false;
        while (i < src.length && (inClass || src[i] !== '/') && src[i] !== '\n') {
          if (src[i] === '\\') i++;
          else if (src[i] === '[') inClass = true;
          else if (src[i] === ']') inClass = false;
          i++;
        }
        i++;
        while (i < src.length && /[a-z]/i.test(src[i] as string)) i++;
        out.push({ kind: 'punct', text: '/re/', line });
      } else if (/[A-Za-z_$0-9]/.test(c)) {
        let w = '';
        while (i < src.length && /[A-Za-z_$0-9]/.test(src[i] as string)) w += src[i++];
        out.push({ kind: 'word', text: w, line });
      } else {
        if (c === '{') depth++;
        if (c === '}') {
          if (depth === 0 && close === '}') return;
          depth--;
        }
        out.push({ kind: 'punct', text: c, line });
        i++;
      }
    }
  };
  code(null);
  return out;
}

/** The imports and string literals of a TypeScript source text. */
export function scanSource(src: string): SourceScan {
  const tokens = tokenize(src);
  const imports: StringPiece[] = [];
  const strings: StringPiece[] = [];
  tokens.forEach((t, k) => {
    if (t.kind !== 'str' && t.kind !== 'tmpl') return;
    strings.push({ text: t.text, line: t.line });
    if (t.kind !== 'str') return;
    const prev = tokens[k - 1];
    const prev2 = tokens[k - 2];
    const isImport =
      (prev?.kind === 'word' && (prev.text === 'from' || prev.text === 'import')) || (prev?.text === '(' && prev2?.kind === 'word' && prev2.text === 'import');
    if (isImport) imports.push({ text: t.text, line: t.line });
  });
  return { imports, strings };
}

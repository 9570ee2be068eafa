/**
 * Colours for human output, decided once per stream: off for NO_COLOR, --no-color, or a stream that is not a TTY.
 * The eight styles are written here, as chalk writes them at its 16-colour level (test/unit/style.test.ts compares):
 * loading chalk and its terminal detection cost more at start-up than these few lines.
 */

export interface Style {
  add(s: string): string;
  change(s: string): string;
  remove(s: string): string;
  warn(s: string): string;
  error(s: string): string;
  ok(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

export function colorEnabled(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv, flag?: boolean): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** An SGR style: its opening and closing codes. */
function sgr(open: number, close: number): (s: string) => string {
  const on = `\u001B[${open}m`;
  const off = `\u001B[${close}m`;
  return (s) => {
    if (s === '') return '';
    // A style inside (its closing code) opens this one again after it.
    let text = s.includes('\u001B') ? s.replaceAll(off, off + on) : s;
    // Each line is closed and opened again, so that a terminal or pager shows it on lines cut apart.
    if (text.includes('\n')) text = text.replace(/\r?\n/g, (lf) => `${off}${lf}${on}`);
    return `${on}${text}${off}`;
  };
}

const plain = (s: string): string => s;

export function makeStyle(enabled: boolean): Style {
  if (!enabled) {
    return { add: plain, change: plain, remove: plain, warn: plain, error: plain, ok: plain, dim: plain, bold: plain };
  }
  const green = sgr(32, 39);
  const yellow = sgr(33, 39);
  const red = sgr(31, 39);
  return {
    add: green,
    change: yellow,
    remove: red,
    warn: yellow,
    error: red,
    ok: green,
    dim: sgr(2, 22),
    bold: sgr(1, 22),
  };
}

export const plainStyle: Style = makeStyle(false);

/** Colours for human output, decided once per stream: off for NO_COLOR, --no-color, or a stream that is not a TTY. */
import { Chalk } from 'chalk';

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

export function makeStyle(enabled: boolean): Style {
  const c = new Chalk({ level: enabled ? 1 : 0 });
  return {
    add: (s) => c.green(s),
    change: (s) => c.yellow(s),
    remove: (s) => c.red(s),
    warn: (s) => c.yellow(s),
    error: (s) => c.red(s),
    ok: (s) => c.green(s),
    dim: (s) => c.dim(s),
    bold: (s) => c.bold(s),
  };
}

export const plainStyle: Style = makeStyle(false);

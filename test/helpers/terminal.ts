/**
 * The built CLI in a real pseudo-terminal, through tmux: a private tmux server per terminal (its own socket), the
 * CLI as the pane's process, keys sent with send-keys, the screen read with capture-pane. Tests wait for what a
 * person would wait for (a question on the screen) instead of sleeping.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '../../src/aws/clients.js';
import { BIN, cliEnv } from './cli.js';

const RECORD_EXIT = join(import.meta.dirname, 'record-exit.mjs');

function hasTmux(): boolean {
  return spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
}

/** Why terminal tests are skipped here, or undefined when they run. Under CI tmux must be there. */
export function tmuxSkipReason(): string | undefined {
  if (hasTmux()) return undefined;
  if (process.env.CI) throw new Error('tmux is not installed, and CI is set: the terminal tests must run');
  const reason = 'tmux is not installed: terminal tests skipped (install tmux to run them)';
  console.warn(reason);
  return reason;
}

export interface TerminalOptions {
  endpoint: string;
  cwd: string;
  env?: Record<string, string | undefined>;
  /** The terminal's width (default 200). */
  columns?: number;
}

export class Terminal {
  /** Lines before this one were passed by an earlier `waitFor` (the line it matched may be redrawn). */
  private seen = 0;

  private constructor(
    private readonly dir: string,
    private readonly socket: string,
    private readonly callLog: string,
    private readonly exitFile: string,
  ) {}

  /** Run `flyte-aws-setup ARGS` in a terminal of 50 rows and `options.columns` (200) columns. */
  static start(args: string[], options: TerminalOptions): Terminal {
    const dir = mkdtempSync(join(tmpdir(), 'fas-tty-'));
    const socket = join(dir, 'tmux.sock');
    const conf = join(dir, 'tmux.conf');
    const callLog = join(dir, 'calls.jsonl');
    writeFileSync(callLog, '');
    // Keep the screen after the CLI exits (to read it); no status line; a long history.
    writeFileSync(conf, 'set -g remain-on-exit on\nset -g status off\nset -g history-limit 20000\n');
    const env = cliEnv({ endpoint: options.endpoint, ...(options.env ? { env: options.env } : {}) }, dir, callLog);
    const t = new Terminal(dir, socket, callLog, join(dir, 'exit-code'));
    t.tmux(
      [
        '-f',
        conf,
        'new-session',
        '-d',
        '-s',
        'cli',
        '-x',
        String(options.columns ?? 200),
        '-y',
        '50',
        '-c',
        options.cwd,
      ],
      [process.execPath, RECORD_EXIT, t.exitFile, process.execPath, BIN, ...args],
      env,
    );
    return t;
  }

  private tmux(args: string[], command: string[] = [], env: NodeJS.ProcessEnv = process.env): string {
    const r = spawnSync('tmux', ['-S', this.socket, ...args, ...command], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  }

  /** The whole screen and its history, long lines joined. */
  screen(): string {
    return this.tmux(['capture-pane', '-p', '-J', '-S', '-', '-E', '-', '-t', 'cli']).replace(/\s+$/, '');
  }

  /** The whole screen and its history as the terminal's rows (a line the terminal wrapped is two rows). */
  rows(): string[] {
    return this.tmux(['capture-pane', '-p', '-S', '-', '-E', '-', '-t', 'cli']).replace(/\s+$/, '').split('\n');
  }

  /**
   * Wait until a line from the last matched one on matches `pattern`; returns the screen. A question the CLI
   * redraws once answered keeps its line (`? Question` becomes `✔ Question answer`), so waiting for its answer
   * finds it, and earlier lines are not matched again.
   */
  async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      const lines = screen.split('\n');
      const at = lines.findIndex((line, i) => i >= this.seen && pattern.test(line));
      if (at >= 0) {
        this.seen = at;
        return screen;
      }
      if (this.exitStatus() !== undefined || Date.now() > deadline) {
        throw new Error(`${pattern} did not appear on the screen (after line ${this.seen}):\n${screen}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Wait for a question and answer it: `text` typed (if any), then Enter. */
  async answer(question: RegExp, text?: string): Promise<void> {
    await this.waitFor(question);
    if (text !== undefined) this.type(text);
    this.keys('Enter');
  }

  type(text: string): void {
    this.tmux(['send-keys', '-t', 'cli', '-l', text]);
  }

  /** tmux key names: Enter, C-c, C-u, Down, Space... */
  keys(...names: string[]): void {
    this.tmux(['send-keys', '-t', 'cli', ...names]);
  }

  /** The CLI's exit code once it has exited. (tmux's own pane status can lag behind a quick exit.) */
  private exitStatus(): number | undefined {
    return existsSync(this.exitFile) ? Number(readFileSync(this.exitFile, 'utf8')) : undefined;
  }

  async exitCode(timeoutMs = 15_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = this.exitStatus();
      if (status !== undefined) return status;
      if (Date.now() > deadline) throw new Error(`the CLI did not exit:\n${this.screen()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Every AWS call the CLI made. */
  calls(): CallRecord[] {
    return readFileSync(this.callLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as CallRecord);
  }

  stop(): void {
    spawnSync('tmux', ['-S', this.socket, 'kill-server'], { stdio: 'ignore' });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

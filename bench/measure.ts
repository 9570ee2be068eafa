/** How the benchmarks measure a run: a command's wall and CPU time, and the median of several. */
import { spawn } from 'node:child_process';
import { childrenCpuMs } from './cpu.js';

export interface Timed {
  ms: number;
  /** CPU time of the command and the children it waited for (undefined without /proc). */
  cpu?: number | undefined;
  stdout: string;
}

/** Run a command to its end: its wall time from spawn to exit, and its CPU time. */
export async function timed(cmd: string, argv: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Timed> {
  let stderr = '';
  let stdout = '';
  const cpuBefore = childrenCpuMs();
  const started = process.hrtime.bigint();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(cmd, argv, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (c) => resolve(c));
  });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const cpuAfter = childrenCpuMs();
  if (code !== 0) throw new Error(`${cmd} ${argv.join(' ')} exited with ${code}:\n${stdout}\n${stderr}`);
  const cpu = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
  return { ms, cpu, stdout };
}

/** The middle value of a list of measurements (the mean of the two middle ones for an even count; NaN for none). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

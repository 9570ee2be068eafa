/**
 * CPU time, as Linux counts it in /proc: what a contender's processes used (user and system, all their threads), and
 * what the emulator used while it answered them. Wall time alone does not say whether a run waited or worked: at no
 * added latency the tool's run is bound by CPU, its own and the emulator's, on the cores they share.
 *
 * A contender's CPU time is read from the bench's own /proc/self/stat: when a process ends and its parent waits for
 * it, the kernel adds its CPU time, and that of the children it waited for, to the parent's `cutime` and `cstime`. So
 * the difference across one run counts the whole tree that ran and was waited for: the tool, the aws CLI script's
 * bash and every `aws` it started, Terraform and its provider plugin. Elsewhere than on Linux nothing is measured.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The four CPU counters of a /proc/PID/stat line, in clock ticks. */
export interface StatTimes {
  /** The process's own time, all its threads. */
  utime: number;
  stime: number;
  /** Its ended children's that it waited for (and theirs). */
  cutime: number;
  cstime: number;
}

/**
 * The counters of a /proc/PID/stat line: fields 14 to 17 (proc(5)). The second field, the command's name in
 * parentheses, may itself hold spaces and parentheses, so the fields are counted from the last `)`.
 */
export function parseStat(line: string): StatTimes {
  const close = line.lastIndexOf(')');
  if (close < 0) throw new Error(`not a /proc stat line: ${line.slice(0, 80)}`);
  // After ") " come field 3 (the state) onwards: field N is at index N - 3.
  const fields = line.slice(close + 2).split(' ');
  const at = (n: number) => {
    const v = Number(fields[n - 3]);
    if (!Number.isInteger(v)) throw new Error(`field ${n} of a /proc stat line is not a count: ${fields[n - 3]}`);
    return v;
  };
  return { utime: at(14), stime: at(15), cutime: at(16), cstime: at(17) };
}

let ticksPerSecond: number | undefined;

/** Clock ticks per second (`getconf CLK_TCK`, 100 on Linux as built). */
function ticks(): number {
  if (ticksPerSecond === undefined) {
    const out = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim());
    ticksPerSecond = Number.isInteger(out) && out > 0 ? out : 100;
  }
  return ticksPerSecond;
}

function read(pid: number | 'self'): StatTimes | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** CPU milliseconds of the bench's ended and waited-for children so far; undefined without /proc. */
export function childrenCpuMs(): number | undefined {
  const hz = ticks(); // first, so that the getconf it may run is not counted in the reading
  const t = read('self');
  return t === undefined ? undefined : ((t.cutime + t.cstime) * 1000) / hz;
}

/** CPU milliseconds a running process has used so far, all its threads; undefined when it cannot be read. */
export function processCpuMs(pid: number | undefined): number | undefined {
  const hz = ticks();
  const t = pid === undefined ? undefined : read(pid);
  return t === undefined ? undefined : ((t.utime + t.stime) * 1000) / hz;
}

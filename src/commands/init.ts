/**
 * `flyte-aws-setup init`: write a commented config from flags, without questions and without AWS (the wizard asks;
 * this one does not). The text is checked by the config's own rules before it is written.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { configTemplate } from '../config/template.js';
import { ConfigError, ExitCode, UsageError, UserError } from '../errors.js';
import { writeAtomic } from '../handoff/write.js';
import { parseConfigText } from '../load/config.js';
import type { CliIo } from '../session/io.js';

export interface InitCliOptions {
  cluster?: string;
  bucket?: string;
  region?: string;
  profile?: string;
  namespace?: string;
  out: string;
  force?: boolean;
}

/** The config keys init's flags give. */
const FLAGS = new Set(['cluster', 'bucket', 'region', 'profile', 'namespace']);

export async function runInit(opts: InitCliOptions, io: CliIo): Promise<number> {
  if (opts.cluster === undefined || opts.bucket === undefined) {
    throw new UsageError(
      `init needs ${[opts.cluster === undefined ? '--cluster' : '', opts.bucket === undefined ? '--bucket' : ''].filter(Boolean).join(' and ')}`,
      'e.g. flyte-aws-setup init --cluster acme-ml --bucket acme-flyte-data --region eu-west-1 (or run flyte-aws-setup in a terminal for the wizard)',
    );
  }
  if (!/\.ya?ml$/i.test(opts.out)) throw new UsageError(`--out ${opts.out}: the name must end in .yaml or .yml`);
  const text = configTemplate({ ...opts, cluster: opts.cluster, bucket: opts.bucket }, opts.out);
  // The values are checked as a config, before anything is written: a problem is the flag's that gave the value (the
  // file it would be in does not exist).
  try {
    parseConfigText(text, opts.out);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigError(
      err.problems.map((p) => {
        const key = p.path[0];
        const flag = typeof key === 'string' && FLAGS.has(key) ? `--${key}` : undefined;
        return flag !== undefined ? { path: [flag, ...p.path.slice(1)], message: p.message } : p;
      }),
    );
  }
  const path = resolve(opts.out);
  if (existsSync(path) && !opts.force) {
    throw new UsageError(`${opts.out} exists; it is not replaced`, 'pass --force to replace it, or --out another name');
  }
  try {
    await writeAtomic(path, text);
  } catch (err) {
    throw new UserError(`cannot write ${opts.out}: ${(err as Error).message}`, { cause: err });
  }
  io.stdout.write(`Wrote ${opts.out}. Next: npx flyte-aws-setup plan --config ${opts.out}\n`);
  return ExitCode.Success;
}

/**
 * `flyte-aws-setup verify`: read the account (never change it), then report per section whether AWS matches the
 * config, and audit what it holds for the mistakes people make by hand. Exit 0 when there is no error, 1 when AWS
 * differs from the config or the audit found an error.
 */
import { auditPlan, driftFindings, leftoverFindings, providersInPlan, referencedProviders } from '../audit/audit.js';
import { verifyReport } from '../audit/report.js';
import type { CliIo, VerifyCliOptions } from '../session/io.js';
import { makePlan } from '../engine/engine.js';
import type { CurrentOidcProvider } from '../model.js';
import { ExitCode, UsageError } from '../errors.js';
import { findIdentity, flyteIdentities, type FlyteIdentity } from '../access/identities.js';
import type { Config } from '../config/schema.js';
import { renderIdentityReport, renderVerify, verifyJson } from '../render/verify-text.js';
import { mapLimit } from '../util/concurrency.js';
import { inConfigFile, loadConfigAt, openAws, openOutput, rerunCommand, type ConfigFlags } from '../session/context.js';

/** The identity `--as` names, or a usage error that lists the config's identities. */
function resolveIdentity(config: Config, as: string): FlyteIdentity {
  const identities = flyteIdentities(config);
  const found = findIdentity(identities, as);
  if (found !== undefined) return found;
  throw new UsageError(
    `--as ${as} is not a Flyte identity of this config (target ${config.target})`,
    `name one as NAMESPACE/SERVICEACCOUNT: ${identities.map((i) => i.id.replace(/^role /, '')).join(', ')}`,
  );
}

/** `opts`: verify's options, and those that take the place of the config's (`--cluster`...). */
export async function runVerify(opts: VerifyCliOptions & ConfigFlags, io: CliIo): Promise<number> {
  const loaded = await loadConfigAt(opts);
  const config = loaded.config;
  // `--as` names one identity: known before anything is read.
  const focus = opts.as !== undefined ? resolveIdentity(config, opts.as) : undefined;
  const output = await openOutput(io, opts);
  const aws = await openAws(config, opts, output);
  try {
    output.progress.start('Reading the account');
    let report;
    let accessReport;
    try {
      const plan = await inConfigFile(loaded, () => makePlan(config, aws.gateway, { audit: true, references: true }));
      const providers = new Map<string, CurrentOidcProvider | undefined>(providersInPlan(plan));
      const unread = referencedProviders(plan).filter((arn) => !providers.has(arn));
      const read = await mapLimit(unread, 4, (arn) => aws.gateway.readOidcProvider(arn));
      unread.forEach((arn, i) => providers.set(arn, read[i]));
      const rerun = rerunCommand(opts);
      output.progress.update('Evaluating the policies');
      // The evaluator is heavy: loaded only here (and at the end of an apply).
      const { runAccessCheck } = await import('../access/run.js');
      const access = await runAccessCheck(aws.gateway, config, plan, {
        rerun,
        providers,
        concurrency: opts.concurrency,
        secondOpinion: opts.secondOpinion !== false,
        ...(focus !== undefined ? { extra: focus } : {}),
      });
      const findings = [
        ...driftFindings(plan, rerun),
        ...auditPlan(plan, providers, { rerun, createsProvider: config.oidcProvider }),
        ...access.findings,
      ];
      report = verifyReport(plan, findings, config.target, leftoverFindings(plan, rerun));
      accessReport = access.report;
    } finally {
      output.progress.clear();
    }
    const code = report.ok ? ExitCode.Success : ExitCode.Failure;
    if (focus !== undefined && accessReport !== undefined) {
      // One identity, explained: only its line of the matrix, and its role's findings.
      const one = { ...accessReport, identities: accessReport.identities.filter((i) => i.id === focus.id) };
      output.out(
        opts.json
          ? JSON.stringify(verifyJson(report, code, one), null, 2)
          : renderIdentityReport(report, one, focus.roleName, output.style),
      );
      return code;
    }
    output.out(
      opts.json
        ? JSON.stringify(verifyJson(report, code, accessReport), null, 2)
        : renderVerify(report, output.style, accessReport),
    );
    return code;
  } finally {
    aws.close();
  }
}

/**
 * `flyte-aws-setup outputs`: read the account, then write the hand-off files (Helm values, cluster resource
 * attributes, ServiceAccount manifests) with the role ARNs AWS reports.
 */
import type { CliIo, HandoffCliOptions } from '../session/io.js';
import { makePlan } from '../engine/engine.js';
import { planSteps, type Plan } from '../model.js';
import { checkOutDir } from '../handoff/write.js';
import { loadConfig, openAws, openOutput, rerunCommand, type RerunOptions } from '../session/context.js';
import { DEFAULT_OUT_DIR, handOff, handoffJson, roleArnsFromPlan } from '../session/hand-off.js';

/** `opts`: the hand-off's options, and those that take the place of the config's (`--cluster`...). */
export async function runOutputs(opts: HandoffCliOptions & RerunOptions, io: CliIo): Promise<number> {
  const config = await loadConfig(opts);
  await checkOutDir(opts.outDir ?? DEFAULT_OUT_DIR);
  const output = await openOutput(io, opts);
  const aws = await openAws(config, opts, output);
  try {
    output.progress.start('Reading the account');
    let plan: Plan;
    try {
      plan = await makePlan(config, aws.gateway, { leftovers: false });
    } finally {
      output.progress.clear();
    }
    const drift = planSteps(plan).length;
    const rerun = rerunCommand(opts);
    if (drift > 0 && !opts.json) {
      output.err(
        output.errStyle.warn(
          `warning: AWS differs from the config (${drift} change(s) to make); the files use the ARNs AWS holds ` +
            `now. See the plan with ${rerunCommand(opts, { dryRun: true })}`,
        ),
      );
    }
    const outcome = await handOff(
      { config, facts: plan.facts, arns: roleArnsFromPlan(plan), sections: plan.sections, rerun },
      opts,
      opts.json ? undefined : { write: output.out, style: output.style },
    );
    if (opts.json) output.out(JSON.stringify(handoffJson(outcome, drift), null, 2));
    return outcome.code;
  } finally {
    aws.close();
  }
}

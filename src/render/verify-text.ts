/** `verify`'s report as text: one line per section, its findings under it (what is wrong, then the fix). */
import type { AccessReport } from '../access/matrix.js';
import type { VerifyReport } from '../audit/report.js';
import { renderAccess, renderIdentity, secondOpinionLines } from './access-text.js';
import { JSON_FORMAT_VERSION } from './json.js';
import type { VerifyDocument } from './json-types.js';
import { chartOf } from '../handoff/charts.js';
import { renderFacts } from './plan-text.js';
import type { Style } from './style.js';

export function renderVerify(report: VerifyReport, style: Style, access?: AccessReport): string {
  const lines = [renderFacts(report.facts)];
  if (report.target !== undefined) {
    const chart = chartOf(report.target);
    lines.push(
      `Target ${report.target} (${chart ? `the ${chart.chart} chart ${chart.version}` : 'a Union data plane'}): ` +
        'the roles and trusts it needs',
    );
  }
  lines.push('');
  for (const s of report.sections) {
    switch (s.verdict) {
      case 'ok':
        lines.push(`${style.ok('✓')} ${s.title}: ${style.dim('matches the config')}`);
        break;
      case 'not-checked':
        lines.push(`${style.dim('-')} ${s.title}: ${style.dim(s.note ?? 'not checked')}`);
        break;
      case 'skipped':
        lines.push(
          `${style.dim('-')} ${s.title}: ${style.dim(`skipped (${s.skipReason ?? `${s.id}: false in the config`})`)}`,
        );
        break;
      default: {
        const errors = s.findings.filter((f) => f.severity === 'error').length;
        const warnings = s.findings.length - errors;
        const counts = [errors > 0 ? `${errors} error(s)` : '', warnings > 0 ? `${warnings} warning(s)` : '']
          .filter(Boolean)
          .join(', ');
        lines.push(`${s.verdict === 'problems' ? style.error('✗') : style.warn('!')} ${s.title}: ${counts}`);
      }
    }
    // Of a section checked, what could not be (a cluster whose VPC is not known); a section not checked says it above.
    if (s.note !== undefined && s.verdict !== 'not-checked') lines.push(`    ${style.dim(`not checked: ${s.note}`)}`);
    for (const f of s.findings) {
      const mark = f.severity === 'error' ? style.error('error  ') : style.warn('warning');
      lines.push(`    ${mark} ${f.resource}: ${f.problem}`);
      lines.push(`            ${style.dim('fix:')} ${f.fix}`);
    }
  }
  if (report.leftovers.length > 0) {
    lines.push(
      `${style.error('✗')} Roles of this setup that the config no longer names: ${report.leftovers.length} error(s)`,
    );
    for (const f of report.leftovers) {
      lines.push(`    ${style.error('error  ')} ${f.resource}: ${f.problem}`);
      lines.push(`            ${style.dim('fix:')} ${f.fix}`);
    }
  }
  if (access !== undefined && access.identities.length > 0) lines.push('', ...renderAccess(access, style));
  lines.push('');
  if (!report.ok) {
    lines.push(
      style.error(
        `Verify failed: ${report.errors} error(s)${report.warnings > 0 ? `, ${report.warnings} warning(s)` : ''}.`,
      ),
    );
  } else if (report.warnings > 0) {
    lines.push(style.warn(`Verify passed with ${report.warnings} warning(s): AWS matches the config.`));
  } else {
    lines.push(style.ok('Verify passed: AWS matches the config, and the audit found nothing wrong.'));
  }
  return lines.join('\n');
}

export function verifyJson(report: VerifyReport, exitCode: number, access?: AccessReport): VerifyDocument {
  return {
    formatVersion: JSON_FORMAT_VERSION,
    kind: 'verify',
    ok: report.ok,
    exitCode,
    summary: { errors: report.errors, warnings: report.warnings },
    facts: report.facts,
    ...(report.target ? { target: report.target } : {}),
    sections: report.sections,
    leftovers: report.leftovers,
    ...(access !== undefined ? { access } : {}),
  };
}

/** `verify --as`: one identity explained (its role, each decision and the statement that made it), its role's findings. */
export function renderIdentityReport(
  report: VerifyReport,
  access: AccessReport,
  roleName: string,
  style: Style,
): string {
  const lines = [renderFacts(report.facts), ''];
  for (const i of access.identities) lines.push(...renderIdentity(i, style));
  const findings = report.sections.flatMap((s) => s.findings).filter((f) => f.resource === `role ${roleName}`);
  if (findings.length > 0) {
    lines.push('', `Findings on the role ${roleName}:`);
    for (const f of findings) {
      const mark = f.severity === 'error' ? style.error('error  ') : style.warn('warning');
      lines.push(`    ${mark} ${f.problem}`, `            ${style.dim('fix:')} ${f.fix}`);
    }
  }
  lines.push('', style.dim('Not checked (not visible from the account):'));
  for (const n of access.notChecked) lines.push(style.dim(`  - ${n}`));
  lines.push(...secondOpinionLines(access, style, ''));
  lines.push(
    report.ok
      ? style.ok('Verify passed.')
      : style.error(`Verify failed: ${report.errors} error(s) in the setup (\`verify\` without --as lists them all).`),
  );
  return lines.join('\n');
}

/**
 * The access check end to end: the built CLI's `verify` against a set-up account in the emulator evaluates, identity
 * by identity, the policies the emulator holds. Each breakage that `verify` used to pass (or only warn about) is
 * made through the SDK: `verify` then exits 1 naming the identity and the action, and 0 once it is mended.
 */
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  DeleteRolePermissionsBoundaryCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../../src/policy/document.js';
import { clients, createBucket, createCluster, createVpc, readRole } from '../helpers/aws.js';
import { ROOT, runCli, writeConfig } from '../helpers/cli.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';

const skip = motoSkipReason();

const CONFIG = `
region: eu-west-1
cluster: acme-ml
bucket: acme-flyte-data
projectRoles:
  - project: fraud
    domains: [development, production]
`;

const BACKEND = 'flyte/flyte-backend-flyte-binary';
const BUCKET_ARNS = ['arn:aws:s3:::acme-flyte-data', 'arn:aws:s3:::acme-flyte-data/*'];

interface Decision {
  state: string;
  want: string;
  reason?: string;
  statements: { policy: string; statement: string; effect: string }[];
  detail?: string;
}
interface Cell extends Decision {
  capability: string;
  column: string;
  action: string;
  resource: string;
}
interface Identity {
  id: string;
  section: string;
  roleName: string;
  roleArn?: string;
  assume: (Decision & { via: string; sub: string; aud: string; issuer: string })[];
  neighbours: (Decision & { who: string })[];
  cells: Cell[];
}
interface VerifyJson {
  ok: boolean;
  exitCode: number;
  sections: { id: string; findings: { code: string; severity: string; resource: string; problem: string }[] }[];
  access: { identities: Identity[]; notChecked: string[] };
}

const doc = (statement: PolicyDocument['Statement']): string =>
  JSON.stringify({ Version: '2012-10-17', Statement: statement });

describe.skipIf(skip !== undefined)('the access check against the emulator', () => {
  let moto: Moto;
  let configFile: string;

  beforeAll(async () => {
    moto = await acquireMoto();
    configFile = writeConfig(CONFIG);
    const vpc = await createVpc(moto.url, { hostnames: true, support: true });
    await createCluster(moto.url, 'acme-ml', 'eu-west-1', vpc.subnetIds);
    await createBucket(moto.url, 'acme-flyte-data');
    const apply = await runCli(['--config', configFile, '--yes', '--approve-broadening'], { endpoint: moto.url });
    expect(apply.code).toBe(0);
    // A run that changed something ends with the access check of the roles it left.
    expect(apply.stdout).toContain('Access, as IAM evaluates the policies AWS holds:');
    expect(apply.stdout).toMatch(/fraud-production\/default\s+flyte-fraud-role\s+✓\s+✓\s+✓\s+✓\s+✓\s+✓\s+-\s+-\s+none/);
  });
  afterAll(async () => moto?.stop());

  const verify = async () => {
    const run = await runCli(['verify', '--config', configFile, '--json'], { endpoint: moto.url });
    expect(run.mutating).toEqual([]);
    const report = JSON.parse(run.stdout) as VerifyJson;
    const findings = report.sections.flatMap((s) => s.findings);
    return { run, report, findings };
  };
  const text = async (...args: string[]) => runCli(['verify', '--config', configFile, ...args], { endpoint: moto.url });

  it('on a fresh setup every identity assumes its role, its neighbours are refused, and it reaches only the bucket', async () => {
    const { run, report } = await verify();
    expect(run.code).toBe(0);
    expect(report.access.identities.map((i) => [i.id, i.roleName])).toEqual([
      [BACKEND, 'flyte-system-role'],
      ['*/default', 'flyte-workers-role'],
      ['fraud-development/default', 'flyte-fraud-role'],
      ['fraud-production/default', 'flyte-fraud-role'],
    ]);
    for (const i of report.access.identities) {
      expect(i.assume).toHaveLength(1);
      expect(i.assume[0]).toMatchObject({ via: 'irsa', state: 'allowed', want: 'allowed', reason: 'allow' });
      expect(i.assume[0]!.statements).toEqual([{ policy: 'trust', statement: '#1', effect: 'Allow' }]);
      expect(i.neighbours.length).toBeGreaterThanOrEqual(3);
      for (const n of i.neighbours) expect(n).toMatchObject({ state: 'denied', want: 'denied' });
      for (const c of i.cells) expect(c.state).toBe(c.want);
      for (const c of i.cells.filter((c) => c.want === 'allowed')) {
        expect(c.statements).toEqual([{ policy: 'flyte-custom-policy', statement: '#1', effect: 'Allow' }]);
      }
    }
    // Every namespace (*:default) is the workers role's on purpose: another namespace is not its neighbour.
    const workers = report.access.identities.find((i) => i.id === '*/default')!;
    expect(workers.assume[0]!.sub).toBe('system:serviceaccount:flytesnacks-development:default');
    expect(workers.neighbours.map((n) => n.who)).not.toContain('default of another namespace: flyte-aws-setup-other');
    expect(report.access.notChecked.join(' ')).toContain('SCPs');

    const shown = await text();
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('Access, as IAM evaluates the policies AWS holds:');
    expect(shown.stdout).toMatch(
      /flyte\/flyte-backend-flyte-binary\s+flyte-system-role\s+✓\s+✓\s+✓\s+✓\s+✓\s+✓\s+-\s+-\s+none/,
    );
    expect(shown.stdout).toContain('Not checked (not visible from the account)');
  });

  it('without the evaluator installed beside the CLI, the access check is listed as not made (a warning per role), never as passed', async () => {
    // A copy of the built CLI where no node_modules is found: as a global install without the evaluator.
    const dir = mkdtempSync(join(tmpdir(), 'fas-no-evaluator-'));
    try {
      for (const part of ['bin', 'dist', 'package.json'])
        cpSync(join(ROOT, part), join(dir, part), { recursive: true });
      const bin = join(dir, 'bin/flyte-aws-setup.cjs');
      const run = await runCli(['verify', '--config', configFile, '--json'], { endpoint: moto.url, bin });
      expect(run.code).toBe(0);
      const report = JSON.parse(run.stdout) as VerifyJson;
      expect(report.access.identities.length).toBeGreaterThan(0);
      for (const i of report.access.identities) {
        expect(i.cells).toEqual([]);
        expect((i as Identity & { notChecked?: string }).notChecked).toContain('@cloud-copilot/iam-simulate');
      }
      const unchecked = report.sections
        .flatMap((s) => s.findings)
        .filter((f) => f.code === 'unchecked' && f.problem.includes('was not evaluated'));
      expect(unchecked.map((f) => f.resource).sort()).toEqual(
        ['role flyte-fraud-role', 'role flyte-system-role', 'role flyte-workers-role'].sort(),
      );
      expect(unchecked.every((f) => f.severity === 'warning')).toBe(true);

      const shown = await runCli(['verify', '--config', configFile], { endpoint: moto.url, bin });
      expect(shown.stdout).toContain('npm install --global @cloud-copilot/iam-simulate');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** A breakage made through the SDK, and its undo. */
  interface Breakage {
    what: string;
    role: string;
    break(): Promise<void>;
    mend(): Promise<void>;
    /** The finding's code, and what its problem names: the identity and the action. */
    code: string;
    names: string[];
    /** A cell of the matrix that must show the breakage: identity, capability, the deciding statement. */
    cell?: [identity: string, capability: string, statement: string];
  }

  const iam = () => clients(moto.url).iam;
  let boundaryArn = '';

  const breakages: Breakage[] = [
    {
      what: 'a permissions boundary without s3:PutObject on the workers role',
      role: 'flyte-workers-role',
      async break() {
        const created = await iam().send(
          new CreatePolicyCommand({
            PolicyName: 'read-only-boundary',
            PolicyDocument: doc([
              { Sid: 'ReadOnly', Effect: 'Allow', Action: ['s3:Get*', 's3:List*', 's3:DeleteObject*'], Resource: '*' },
            ]),
          }),
        );
        boundaryArn = created.Policy!.Arn!;
        await iam().send(
          new PutRolePermissionsBoundaryCommand({ RoleName: 'flyte-workers-role', PermissionsBoundary: boundaryArn }),
        );
      },
      mend: async () => {
        await iam().send(new DeleteRolePermissionsBoundaryCommand({ RoleName: 'flyte-workers-role' }));
      },
      code: 'access-denied',
      names: ['*/default', 's3:PutObject', 'read-only-boundary'],
    },
    {
      what: 'an inline Deny on the bucket on the backend role',
      role: 'flyte-system-role',
      break: async () => {
        await iam().send(
          new PutRolePolicyCommand({
            RoleName: 'flyte-system-role',
            PolicyName: 'deny-flyte-bucket',
            PolicyDocument: doc([{ Sid: 'NoFlyteBucket', Effect: 'Deny', Action: 's3:*', Resource: BUCKET_ARNS }]),
          }),
        );
      },
      mend: async () => {
        await iam().send(
          new DeleteRolePolicyCommand({ RoleName: 'flyte-system-role', PolicyName: 'deny-flyte-bucket' }),
        );
      },
      code: 'access-denied',
      names: [BACKEND, 's3:GetObject', 'inline deny-flyte-bucket NoFlyteBucket'],
    },
    {
      what: 'an inline s3:* on * on a project role',
      role: 'flyte-fraud-role',
      break: async () => {
        await iam().send(
          new PutRolePolicyCommand({
            RoleName: 'flyte-fraud-role',
            PolicyName: 'all-of-s3',
            PolicyDocument: doc([{ Effect: 'Allow', Action: 's3:*', Resource: '*' }]),
          }),
        );
      },
      mend: async () => {
        await iam().send(new DeleteRolePolicyCommand({ RoleName: 'flyte-fraud-role', PolicyName: 'all-of-s3' }));
      },
      // A broad grant the plan reports already: one finding (broad-policy), the matrix shows its reach.
      code: 'broad-policy',
      names: ['the inline policy all-of-s3', 'allows every S3 action ("s3:*") on every bucket'],
      cell: ['fraud-production/default', 'read another bucket', 'inline all-of-s3 #1'],
    },
    {
      what: 'AmazonS3ReadOnlyAccess on the workers role',
      role: 'flyte-workers-role',
      break: async () => {
        await iam().send(
          new AttachRolePolicyCommand({
            RoleName: 'flyte-workers-role',
            PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
          }),
        );
      },
      mend: async () => {
        await iam().send(
          new DetachRolePolicyCommand({
            RoleName: 'flyte-workers-role',
            PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
          }),
        );
      },
      code: 'over-grant',
      names: ['*/default', 'read any other bucket (s3:GetObject)', 'AmazonS3ReadOnlyAccess'],
    },
  ];

  /** The backend role's trust with another `sub` (the chart's old service account name) or another `aud`. */
  function trustWith(role: string, change: (d: PolicyDocument) => void): Breakage['break'] {
    return async () => {
      const before = (await readRole(moto.url, role))!.trust;
      const next = structuredClone(before) as PolicyDocument;
      change(next);
      await iam().send(new UpdateAssumeRolePolicyCommand({ RoleName: role, PolicyDocument: JSON.stringify(next) }));
      trustBefore.set(role, before);
    };
  }
  const trustBefore = new Map<string, PolicyDocument>();
  const restoreTrust = (role: string) => async () => {
    await iam().send(
      new UpdateAssumeRolePolicyCommand({ RoleName: role, PolicyDocument: JSON.stringify(trustBefore.get(role)) }),
    );
  };
  const equals = (d: PolicyDocument) => d.Statement[0]!.Condition!.StringEquals!;
  breakages.push(
    {
      what: "a trust whose sub no longer matches the chart's service account",
      role: 'flyte-system-role',
      break: trustWith('flyte-system-role', (d) => {
        const c = equals(d);
        const key = Object.keys(c).find((k) => k.endsWith(':sub'))!;
        c[key] = 'system:serviceaccount:flyte:flyte-backend';
      }),
      mend: restoreTrust('flyte-system-role'),
      code: 'access-denied',
      names: [BACKEND, 'cannot assume the role', 'system:serviceaccount:flyte:flyte-backend-flyte-binary'],
    },
    {
      what: 'a trust whose aud no longer matches what the pods present',
      role: 'flyte-fraud-role',
      break: trustWith('flyte-fraud-role', (d) => {
        const c = equals(d);
        const key = Object.keys(c).find((k) => k.endsWith(':aud'))!;
        c[key] = 'sts.amazonaws.com.cn';
      }),
      mend: restoreTrust('flyte-fraud-role'),
      code: 'access-denied',
      names: ['fraud-development/default', 'cannot assume the role'],
    },
  );

  for (const b of breakages) {
    it(`fails on ${b.what}, naming the identity and the action (${b.code}), and passes once mended`, async () => {
      await b.break();
      try {
        const { run, report, findings } = await verify();
        expect(run.code).toBe(1);
        expect(report.ok).toBe(false);
        const found = findings.filter((f) => f.code === b.code && f.resource === `role ${b.role}`);
        expect(found.length).toBeGreaterThan(0);
        expect(found[0]!.severity).toBe('error');
        for (const n of b.names) expect(found.map((f) => f.problem).join('\n')).toContain(n);
        if (b.cell !== undefined) {
          const [id, capability, statement] = b.cell;
          const cell = report.access.identities
            .find((i) => i.id === id)!
            .cells.find((c) => c.capability === capability)!;
          expect(cell).toMatchObject({ state: 'allowed', want: 'denied' });
          expect(cell.statements.map((s) => `${s.policy} ${s.statement}`)).toEqual([statement]);
          // One finding for one cause: the broad grant is not reported again as an over-grant.
          expect(findings.filter((f) => f.code === 'over-grant')).toEqual([]);
        }

        const shown = await text();
        expect(shown.code).toBe(1);
        expect(shown.stdout).toContain(`role ${b.role}: `);
        expect(shown.stdout).toMatch(/✗/);
      } finally {
        await b.mend();
      }
      const again = await verify();
      expect(again.run.code).toBe(0);
      expect(again.findings.filter((f) => f.code === b.code)).toEqual([]);
    });
  }

  it('names the deciding statements: the boundary caps what the custom policy allows', async () => {
    await iam().send(
      new PutRolePermissionsBoundaryCommand({ RoleName: 'flyte-workers-role', PermissionsBoundary: boundaryArn }),
    );
    try {
      const { report } = await verify();
      const workers = report.access.identities.find((i) => i.id === '*/default')!;
      const put = workers.cells.find((c) => c.action === 's3:PutObject')!;
      expect(put).toMatchObject({
        state: 'denied',
        want: 'allowed',
        reason: 'boundary',
        statements: [{ policy: 'flyte-custom-policy', statement: '#1', effect: 'Allow' }],
        detail: 'read-only-boundary',
      });
      expect(workers.cells.find((c) => c.action === 's3:GetObject')!.state).toBe('allowed');

      // --as explains one identity: a namespace the workers role's `*` trust covers is that identity, there.
      const as = await text('--as', 'ml-development/default');
      expect(as.code).toBe(1);
      expect(as.stdout).toContain('ml-development/default: task pods of ml-development');
      expect(as.stdout).toContain('role arn:aws:iam::123456789012:role/flyte-workers-role');
      expect(as.stdout).toMatch(
        /✓ assume the role \(sts:AssumeRoleWithWebIdentity; sub system:serviceaccount:ml-development:default, aud sts\.amazonaws\.com, issuer oidc\.eks\.eu-west-1\.amazonaws\.com\/id\/\w+\): allowed \(allowed by trust #1\)/,
      );
      expect(as.stdout).toContain(
        '✓ must refuse another service account of ml-development: flyte-aws-setup-other: refused',
      );
      expect(as.stdout).toContain(
        '✗ put objects under s3://acme-flyte-data/metadata/ (metadata): refused (allowed by flyte-custom-policy #1, but the permissions boundary read-only-boundary does not allow it)',
      );
      expect(as.stdout).toContain(
        '✓ get objects under s3://acme-flyte-data/metadata/ (metadata): allowed (allowed by flyte-custom-policy #1)',
      );
      expect(as.stdout).toContain('✓ read any other bucket (s3:GetObject): refused (no statement allows it)');
      expect(as.stdout).toContain('Findings on the role flyte-workers-role:');
      expect(as.stdout).not.toContain('flyte-fraud-role');

      const json = JSON.parse((await text('--as', 'fraud-production/default', '--json')).stdout) as VerifyJson;
      expect(json.access.identities.map((i) => i.id)).toEqual(['fraud-production/default']);
    } finally {
      await iam().send(new DeleteRolePermissionsBoundaryCommand({ RoleName: 'flyte-workers-role' }));
    }
  });

  it('an apply whose config gives the roles a boundary without s3:PutObject completes, and exits 1 naming who cannot write', async () => {
    const bounded = writeConfig(`${CONFIG}permissionsBoundary: ${boundaryArn}\n`, 'bounded.yaml');
    try {
      const run = await runCli(['--config', bounded, '--yes', '--approve-broadening', '--json'], {
        endpoint: moto.url,
      });
      expect(run.code).toBe(1);
      const result = JSON.parse(run.stdout) as {
        outcome: string;
        exitCode: number;
        access: { identities: Identity[] };
        accessFindings: { code: string; resource: string; problem: string }[];
      };
      // Every change was made; the setup cannot serve Flyte as it is.
      expect(result).toMatchObject({ outcome: 'complete', exitCode: 1 });
      expect(result.accessFindings.map((f) => [f.code, f.resource])).toEqual([
        ['access-denied', 'role flyte-system-role'],
        ['access-denied', 'role flyte-workers-role'],
        ['access-denied', 'role flyte-fraud-role'],
      ]);
      expect(result.accessFindings[0]!.problem).toBe(
        `${BACKEND} cannot s3:PutObject under s3://acme-flyte-data/metadata/ and s3://acme-flyte-data/: allowed by flyte-custom-policy #1, but the permissions boundary read-only-boundary does not allow it`,
      );
      expect(result.access.identities).toHaveLength(4);
    } finally {
      for (const role of [
        'flyte-system-role',
        'flyte-workers-role',
        'flyte-fraud-role',
        'flyte-eks-cluster-role',
        'flyte-eks-node-role',
      ]) {
        await iam().send(new DeleteRolePermissionsBoundaryCommand({ RoleName: role }));
      }
    }
    expect((await verify()).run.code).toBe(0);
  });
});

describe('verify --as an identity the config does not have', () => {
  it('is bad input, listing the identities', async () => {
    const file = writeConfig(CONFIG);
    const run = await runCli(['verify', '--config', file, '--as', 'kube-system/spark']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--as kube-system/spark is not a Flyte identity of this config (target flyte-binary)');
    expect(run.stderr).toContain(
      'name one as NAMESPACE/SERVICEACCOUNT: flyte/flyte-backend-flyte-binary, */default, fraud-development/default, fraud-production/default',
    );
  });
});

/**
 * `verify` end to end: the built CLI against a set-up account in the emulator passes, makes no mutating call,
 * and fails, naming the role, on each mistake people make by hand (made here through the SDK, then undone).
 */
import {
  AttachRolePolicyCommand,
  CreateOpenIDConnectProviderCommand,
  DeleteOpenIDConnectProviderCommand,
  DetachRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../../src/policy/document.js';
import { ACCOUNT, clients, createBucket, createCluster, createVpc, readRole, POLICY_ARN } from '../helpers/aws.js';
import { ModifyVpcAttributeCommand } from '@aws-sdk/client-ec2';
import { runCli, writeConfig } from '../helpers/cli.js';
import { acquireMoto, motoSkipReason, type Moto } from '../helpers/emulator.js';

const skip = motoSkipReason();

const CONFIG = `
region: eu-west-1
cluster: acme-ml
bucket: acme-flyte-data
projectRoles:
  - project: fraud
`;

const S3_FULL = 'arn:aws:iam::aws:policy/AmazonS3FullAccess';
/** The tags the tool gives what it makes for this setup (the cluster's name). */
const OWN_TAGS = [
  { Key: 'managed-by', Value: 'flyte-aws-setup' },
  { Key: 'flyte-aws-setup:setup', Value: 'acme-ml' },
];

interface VerifyJson {
  ok: boolean;
  exitCode: number;
  summary: { errors: number; warnings: number };
  sections: {
    id: string;
    verdict: string;
    findings: { code: string; severity: string; resource: string; problem: string; fix: string }[];
  }[];
}

describe.skipIf(skip !== undefined)('verify against the emulator', () => {
  let moto: Moto;
  let configFile: string;
  let host: string;
  let issuer: string;
  let provider: string;
  let vpcId: string;

  beforeAll(async () => {
    moto = await acquireMoto();
    configFile = writeConfig(CONFIG);
    // The cluster sits on a VPC with both DNS settings on, so the VPC check passes too.
    const vpc = await createVpc(moto.url, { hostnames: true, support: true });
    vpcId = vpc.vpcId;
    issuer = await createCluster(moto.url, 'acme-ml', 'eu-west-1', vpc.subnetIds);
    host = issuer.replace('https://', '');
    provider = `arn:aws:iam::${ACCOUNT}:oidc-provider/${host}`;
    await createBucket(moto.url, 'acme-flyte-data');
    const apply = await runCli(['--config', configFile, '--yes', '--approve-broadening'], { endpoint: moto.url });
    expect(apply.code).toBe(0);
  });
  afterAll(async () => moto?.stop());

  const verify = async () => {
    const run = await runCli(['verify', '--config', configFile, '--json'], { endpoint: moto.url });
    expect(run.mutating).toEqual([]);
    return { run, report: JSON.parse(run.stdout) as VerifyJson };
  };

  it('passes on a fresh setup, reading only', async () => {
    const { run, report } = await verify();
    expect(run.code).toBe(0);
    expect(report).toMatchObject({ ok: true, exitCode: 0, summary: { errors: 0, warnings: 0 } });
    // The seven sections, global access (not in this config: skipped), the cluster VPC's DNS check, Pod Identity
    // (identity: irsa, skipped) and the grants (none in this config: skipped).
    expect(report.sections.map((s) => s.verdict)).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
      'skipped',
      'ok',
      'skipped',
      'skipped',
    ]);

    const text = await runCli(['verify', '--config', configFile], { endpoint: moto.url });
    expect(text.code).toBe(0);
    expect(text.mutating).toEqual([]);
    expect(text.stdout).toContain('✓ Flyte workers role: matches the config');
    expect(text.stdout).toContain('Verify passed');
  });

  function irsa(condition: Record<string, Record<string, string | string[]>>, federated = provider): string {
    const doc: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Federated: federated },
          Action: 'sts:AssumeRoleWithWebIdentity',
          Condition: condition,
        },
      ],
    };
    return JSON.stringify(doc);
  }

  /** Give a role another trust; returns the undo. */
  async function setTrust(role: string, doc: string): Promise<() => Promise<void>> {
    const { iam } = clients(moto.url);
    const before = (await readRole(moto.url, role))!.trust;
    await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: role, PolicyDocument: doc }));
    return async () => {
      await iam.send(new UpdateAssumeRolePolicyCommand({ RoleName: role, PolicyDocument: JSON.stringify(before) }));
    };
  }

  async function replaceProvider(clientIds: string[]): Promise<void> {
    const { iam } = clients(moto.url);
    await iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: provider }));
    await iam.send(
      new CreateOpenIDConnectProviderCommand({
        Url: issuer,
        ClientIDList: clientIds,
        Tags: OWN_TAGS,
      }),
    );
  }

  const WIDE = 'system:serviceaccount:*:default';
  const mistakes: [string, string, string, () => Promise<() => Promise<void>>][] = [
    [
      'condition keys of another region (seeds 001, 002)',
      'flyte-system-role',
      'foreign-issuer',
      () =>
        setTrust(
          'flyte-system-role',
          irsa({
            StringEquals: {
              [`${host.replace('eu-west-1', 'us-east-1')}:aud`]: 'sts.amazonaws.com',
              [`${host}:sub`]: 'system:serviceaccount:flyte:flyte-backend-flyte-binary',
            },
          }),
        ),
    ],
    [
      'aud missing',
      'flyte-workers-role',
      'aud-missing',
      () => setTrust('flyte-workers-role', irsa({ StringLike: { [`${host}:sub`]: WIDE } })),
    ],
    [
      'aud under StringLike (seed 002 step 8)',
      'flyte-workers-role',
      'aud-not-string-equals',
      () =>
        setTrust(
          'flyte-workers-role',
          irsa({ StringLike: { [`${host}:aud`]: 'sts.amazonaws.com', [`${host}:sub`]: WIDE } }),
        ),
    ],
    [
      'a wildcard under StringEquals',
      'flyte-workers-role',
      'wildcard-string-equals',
      () =>
        setTrust(
          'flyte-workers-role',
          irsa({ StringEquals: { [`${host}:aud`]: 'sts.amazonaws.com', [`${host}:sub`]: WIDE } }),
        ),
    ],
    [
      'a trust naming an OIDC provider that does not exist',
      'flyte-fraud-role',
      'provider-missing',
      () => {
        const other = host.replace(/[^/]+$/, 'NOTTHERE');
        return setTrust(
          'flyte-fraud-role',
          irsa(
            {
              StringEquals: {
                [`${other}:aud`]: 'sts.amazonaws.com',
                [`${other}:sub`]: 'system:serviceaccount:fraud-staging:default',
              },
            },
            `arn:aws:iam::${ACCOUNT}:oidc-provider/${other}`,
          ),
        );
      },
    ],
    [
      "the cluster's OIDC provider deleted by hand",
      'flyte-system-role',
      'provider-missing',
      async () => {
        const { iam } = clients(moto.url);
        await iam.send(new DeleteOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: provider }));
        return async () => {
          await iam.send(
            new CreateOpenIDConnectProviderCommand({
              Url: issuer,
              ClientIDList: ['sts.amazonaws.com'],
              Tags: OWN_TAGS,
            }),
          );
        };
      },
    ],
    [
      'an OIDC provider without sts.amazonaws.com',
      'flyte-workers-role',
      'provider-audience-missing',
      // The emulator does not serve Add/RemoveClientID: the provider is made again with another audience.
      async () => {
        await replaceProvider(['other']);
        return () => replaceProvider(['sts.amazonaws.com']);
      },
    ],
    [
      'AmazonS3FullAccess where the scoped policy belongs (seed 001)',
      'flyte-system-role',
      'broad-policy',
      async () => {
        const { iam } = clients(moto.url);
        await iam.send(new AttachRolePolicyCommand({ RoleName: 'flyte-system-role', PolicyArn: S3_FULL }));
        return async () => {
          await iam.send(new DetachRolePolicyCommand({ RoleName: 'flyte-system-role', PolicyArn: S3_FULL }));
        };
      },
    ],
    [
      'a trust policy near its size limit',
      'flyte-fraud-role',
      'trust-size',
      () =>
        setTrust(
          'flyte-fraud-role',
          irsa({
            StringEquals: {
              [`${host}:aud`]: 'sts.amazonaws.com',
              [`${host}:sub`]: Array.from(
                { length: 36 },
                (_, i) => `system:serviceaccount:fraud-team-${i}-dev:default`,
              ),
            },
          }),
        ),
    ],
    [
      'a role without the expected policies',
      'flyte-workers-role',
      'policy-not-attached',
      async () => {
        const { iam } = clients(moto.url);
        await iam.send(new DetachRolePolicyCommand({ RoleName: 'flyte-workers-role', PolicyArn: POLICY_ARN }));
        return async () => {
          await iam.send(new AttachRolePolicyCommand({ RoleName: 'flyte-workers-role', PolicyArn: POLICY_ARN }));
        };
      },
    ],
  ];

  it.each(mistakes)('fails on %s, naming %s (%s)', async (_name, role, code, make) => {
    const undo = await make();
    try {
      const { run, report } = await verify();
      expect(run.code).toBe(1);
      expect(report.ok).toBe(false);
      const findings = report.sections.flatMap((s) => s.findings);
      const found = findings.find((f) => f.code === code && f.resource === `role ${role}`);
      expect(found, JSON.stringify(findings, null, 2)).toBeDefined();
      expect(found!.fix).not.toBe('');
    } finally {
      await undo();
    }
  });

  it("fails when the cluster VPC's DNS hostnames were turned off, naming the VPC and the command that fixes it", async () => {
    const { ec2 } = clients(moto.url);
    await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: false } }));
    try {
      const { run, report } = await verify();
      expect(run.code).toBe(1);
      const found = report.sections.flatMap((s) => s.findings).find((f) => f.code === 'vpc-dns-off');
      expect(found).toMatchObject({ severity: 'error', resource: `VPC ${vpcId}` });
      expect(found!.problem).toMatch(/enableDnsHostnames is off/);
      expect(found!.fix).toBe(
        `aws ec2 modify-vpc-attribute --region eu-west-1 --vpc-id ${vpcId} --enable-dns-hostnames`,
      );
    } finally {
      await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpcId, EnableDnsHostnames: { Value: true } }));
    }
  });

  it('after the mistakes are undone it passes again', async () => {
    const { run } = await verify();
    expect(run.code).toBe(0);
  });
});

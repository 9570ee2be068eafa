/** The pieces that keep a run safe when AWS misbehaves: error classes, hints, secrets, and careful retries. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  CreatePolicyVersionCommand,
  DeletePolicyVersionCommand,
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  ListPolicyVersionsCommand,
} from '@aws-sdk/client-iam';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { credentialsError, isTransient, toAwsError } from '../../src/aws/errors.js';
import { regionTypo } from '../../src/config/rules.js';
import { profileNames, profileSetting, profileSource } from '../../src/aws/profiles.js';
import { parseConfigText } from '../../src/load/config.js';
import { applyPlan } from '../../src/engine/apply.js';
import { makePlan } from '../../src/engine/engine.js';
import { planSteps } from '../../src/model.js';
import { bucketPolicyDocument } from '../../src/policy/document.js';
import { addSecrets, REDACTED, redact, redactingStream } from '../../src/util/secrets.js';
import { awsError, ISSUER, mockAws } from '../helpers/mock-aws.js';

describe('which failures are worth another try', () => {
  const net = (code: string) => Object.assign(new Error('socket hang up'), { code });
  const status = (n: number) => Object.assign(awsError('InternalFailure'), { $metadata: { httpStatusCode: n } });
  it.each<[string, unknown, boolean]>([
    ['Throttling', awsError('Throttling'), true],
    ['ThrottlingException', awsError('ThrottlingException'), true],
    ['a 500', status(500), true],
    ['a 503', status(503), true],
    ['a dropped connection', net('ECONNRESET'), true],
    ['a refused connection', net('ECONNREFUSED'), true],
    ['a timeout', awsError('TimeoutError'), true],
    ['an answer that was not AWS’s', awsError('UnreadableAnswer'), true],
    ['AccessDenied', awsError('AccessDenied'), false],
    ['NoSuchEntity', awsError('NoSuchEntity'), false],
    ['LimitExceeded', awsError('LimitExceeded'), false],
  ])('%s: %s', (_name, err, expected) => {
    expect(isTransient(err)).toBe(expected);
    // The same once mapped to the tool's error.
    expect(isTransient(toAwsError(err, { service: 'iam', operation: 'CreatePolicyVersion' }))).toBe(expected);
  });
});

describe('hints name the profile to sign in with and the region to check', () => {
  it('an SSO session that is gone', () => {
    const err = Object.assign(
      new Error('The SSO session token associated with profile=dev was not found or is invalid.'),
      {
        name: 'CredentialsProviderError',
      },
    );
    const e = toAwsError(err, { service: 'sts', operation: 'GetCallerIdentity' }, { profile: 'dev' });
    expect(e.message).toMatch(/no usable AWS credentials \(profile dev\) for GetCallerIdentity/);
    expect(e.hint).toBe('sign in again first: aws sso login --profile dev');
    expect(credentialsError(err).hint).toBe('sign in again first: aws sso login');
  });

  it('an expired session', () => {
    const e = toAwsError(
      awsError('ExpiredToken'),
      { service: 'sts', operation: 'GetCallerIdentity' },
      { profile: 'ci' },
    );
    expect(e.hint).toMatch(/aws sso login --profile ci/);
  });

  it('a service that cannot be reached', () => {
    const e = toAwsError(
      Object.assign(new Error('getaddrinfo ENOTFOUND eks.xx-east-9.amazonaws.com'), { code: 'ENOTFOUND' }),
      { service: 'eks', operation: 'DescribeCluster' },
      { region: 'xx-east-9' },
    );
    expect(e.message).toMatch(/could not reach AWS for eks:DescribeCluster in region xx-east-9/);
    expect(e.hint).toMatch(/EKS is offered in xx-east-9 \(--region\)/);
    expect(e.hint).not.toMatch(/typo/);
  });

  it('a region one typo away from a region code: the hint names it', () => {
    const e = toAwsError(
      Object.assign(new Error('getaddrinfo ENOTFOUND eks.eu-wset-1.amazonaws.com'), { code: 'ENOTFOUND' }),
      { service: 'eks', operation: 'DescribeCluster' },
      { region: 'eu-wset-1' },
    );
    expect(e.hint).toMatch(/^is eu-wset-1 a typo of eu-west-1\? \(--region, or region: in the config\); else check/);
    expect(regionTypo('ap-sotheast-2')).toBe('ap-southeast-2');
    expect(regionTypo('us-gov-wets-1')).toBe('us-gov-west-1');
    // Region codes as they are, and words not close to a region's: no guess.
    for (const r of ['eu-west-1', 'mx-central-1', 'us-gov-east-1', 'cn-northwest-1', 'xx-wibble-9']) {
      expect(regionTypo(r), r).toBeUndefined();
    }
  });
});

describe('profiles', () => {
  it('are read from the config file ([default], [profile x]) and the credentials file ([x])', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fas-aws-'));
    writeFileSync(
      join(dir, 'config'),
      '[default]\nregion = eu-west-1\n[profile dev]\nregion = x\n[sso-session corp]\nsso_region = x\n',
    );
    writeFileSync(join(dir, 'credentials'), '[ci]\naws_access_key_id = x\n');
    const env = { AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials') };
    expect(profileNames(env).sort()).toEqual(['ci', 'default', 'dev']);
    expect(profileNames({ HOME: join(dir, 'nowhere') })).toEqual([]);
  });
});

describe('where a profile’s credentials come from, and the hint when they fail', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fas-aws-'));
  writeFileSync(
    join(dir, 'config'),
    [
      '[profile proc]',
      'credential_process = /opt/bin/get-creds --token tk-0123456789abcdef',
      '[profile sso]',
      'sso_session = corp',
      'sso_account_id = 123456789012',
      '[sso-session corp]',
      'sso_start_url = https://corp.awsapps.com/start',
      '[profile role]',
      'role_arn = arn:aws:iam::123456789012:role/r',
      'source_profile = sso',
      '[profile ec2]',
      'role_arn = arn:aws:iam::123456789012:role/r',
      'credential_source = Ec2InstanceMetadata',
      '[profile empty]',
      'region = eu-west-1',
      'max_attempts = 7',
      '  # an indented line is a sub-setting',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'credentials'), '[keys]\naws_access_key_id = AKIAX\naws_secret_access_key = s\n');
  const files = { AWS_CONFIG_FILE: join(dir, 'config'), AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials') };
  afterEach(() => {
    vi.unstubAllEnvs();
  });
  const site = { service: 'sts', operation: 'GetCallerIdentity' } as const;
  const providerError = (message: string) => Object.assign(new Error(message), { name: 'CredentialsProviderError' });

  it('is read in the order the SDK decides it', () => {
    expect(profileSource('proc', files)).toEqual({ kind: 'process' });
    expect(profileSource('sso', files)).toEqual({ kind: 'sso' });
    expect(profileSource('role', files)).toEqual({ kind: 'assume-role', sourceProfile: 'sso' });
    expect(profileSource('ec2', files)).toEqual({ kind: 'assume-role', credentialSource: 'Ec2InstanceMetadata' });
    expect(profileSource('keys', files)).toEqual({ kind: 'static' });
    expect(profileSource('empty', files)).toEqual({ kind: 'none' });
    expect(profileSource('nope', files)).toBeUndefined();
    expect(profileSetting('empty', 'max_attempts', files)).toBe('7');
  });

  it('a failing credential_process: neither its command nor what it printed, and no cause to print them', () => {
    vi.stubEnv('AWS_CONFIG_FILE', files.AWS_CONFIG_FILE);
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', files.AWS_SHARED_CREDENTIALS_FILE);
    const err = providerError(
      'Command failed: /opt/bin/get-creds --token tk-0123456789abcdef\nerror: session sess-42 token expired\n',
    );
    const e = toAwsError(err, site, { profile: 'proc' });
    expect(e.message).toBe(
      'no usable AWS credentials (profile proc) for GetCallerIdentity: the credential_process of profile proc failed',
    );
    expect(e.hint).toMatch(/`aws sts get-caller-identity --profile proc` runs the same process/);
    expect(e.cause).toBeUndefined();
    for (const text of [e.message, e.hint!, e.stack!]) {
      expect(text).not.toMatch(/get-creds|tk-0123456789abcdef|sess-42|sso/);
    }
  });

  it.each([
    ['sso', 'The SSO session token was not found or is invalid.', 'sign in again first: aws sso login --profile sso'],
    ['role', 'Token is expired', 'sign in again first: aws sso login --profile sso (the source of profile role)'],
    ['keys', 'The security token included in the request is expired', 'check the access key of profile keys'],
    ['proc', 'Profile proc credential_process returned invalid JSON.', 'the credential_process of profile proc'],
    ['ec2', 'could not reach the instance metadata', 'credential_source Ec2InstanceMetadata'],
    ['empty', 'Could not resolve credentials using profile: [empty]', 'profile empty holds no credentials'],
  ])('profile %s: %s', (profile, message, hint) => {
    vi.stubEnv('AWS_CONFIG_FILE', files.AWS_CONFIG_FILE);
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', files.AWS_SHARED_CREDENTIALS_FILE);
    const e = credentialsError(providerError(message), site, { profile });
    expect(e.message).toContain(message);
    expect(e.hint).toContain(hint);
    if (profile !== 'sso' && profile !== 'role') expect(e.hint).not.toMatch(/aws sso login/);
  });
});

describe('secrets never get out', () => {
  it('redacts known secrets in every write, and leaves the stream itself alone', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY';
    addSecrets(secret, 'short');
    expect(redact(`key=${secret}!`)).toBe(`key=${REDACTED}!`);
    expect(redact('short')).toBe('short');
    const target = Object.assign(new PassThrough(), { isTTY: true, columns: 99 });
    let written = '';
    target.on('data', (d: Buffer) => (written += d.toString()));
    const stream = redactingStream(target);
    stream.write(`a ${secret} b\n`);
    stream.write(Buffer.from(`${secret}\n`));
    expect(written).toBe(`a ${REDACTED} b\n${REDACTED}\n`);
    expect(stream.isTTY).toBe(true);
    expect(stream.columns).toBe(99);
  });

  it('a library that hooks write (as ora does) wraps the redacting write, without recursion', () => {
    const secret = 'aSecretSessionToken0123456789';
    addSecrets(secret);
    const target = new PassThrough();
    let written = '';
    target.on('data', (d: Buffer) => (written += d.toString()));
    const stream = redactingStream(target);
    const original = stream.write;
    let hooked = 0;
    stream.write = ((chunk: string) => {
      hooked++;
      return (original as (c: string) => boolean).call(stream, chunk);
    }) as typeof stream.write;
    stream.write(`token ${secret}\n`);
    stream.write = original;
    stream.write('after\n');
    expect(hooked).toBe(1);
    expect(written).toBe(`token ${REDACTED}\nafter\n`);
  });
});

describe('a policy version is never made twice', () => {
  const arn = 'arn:aws:iam::111122223333:policy/flyte-custom-policy';
  const config = parseConfigText(
    'bucket: acme-flyte-data\ncluster: acme\nclusterRole: false\nnodeRole: false\nsystemRole: false\nworkersRole: false\n',
  );
  const FAST = { consistency: { timeoutMs: 2_000, initialDelayMs: 1 } };
  const old = encodeURIComponent(JSON.stringify(bucketPolicyDocument('aws', 'old-bucket')));
  const wanted = encodeURIComponent(JSON.stringify(bucketPolicyDocument('aws', 'acme-flyte-data')));

  function policyAccount(versions: number) {
    const m = mockAws();
    m.iam
      .on(GetOpenIDConnectProviderCommand)
      .resolves({ Url: ISSUER.slice(8), ClientIDList: ['sts.amazonaws.com'], Tags: [] });
    m.iam.on(GetPolicyCommand).resolves({
      Policy: {
        PolicyName: 'flyte-custom-policy',
        Arn: arn,
        Path: '/',
        DefaultVersionId: 'v1',
        Tags: [
          { Key: 'managed-by', Value: 'flyte-aws-setup' },
          { Key: 'flyte-aws-setup:setup', Value: 'acme' },
        ],
      },
    });
    m.iam.on(ListPolicyVersionsCommand).resolves({
      Versions: Array.from({ length: versions }, (_, i) => ({
        VersionId: `v${i + 1}`,
        IsDefaultVersion: i === 0,
        CreateDate: new Date(2024, i, 1),
      })),
    });
    return m;
  }

  it('when the answer to CreatePolicyVersion is lost but the version was made, it is not sent again', async () => {
    const m = policyAccount(1);
    // Read for the plan: the old document. Read after the lost answer: the new one is the default.
    m.iam
      .on(GetPolicyVersionCommand)
      .resolvesOnce({ PolicyVersion: { Document: old } })
      .resolves({ PolicyVersion: { Document: wanted } });
    m.iam.on(CreatePolicyVersionCommand).rejects(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const plan = await makePlan(config, m.gateway);
    const result = await applyPlan(plan, m.gateway, {}, FAST);
    expect(result.outcome).toBe('complete');
    expect(m.iam.commandCalls(CreatePolicyVersionCommand)).toHaveLength(1);
  });

  it('when it failed in transit without effect, it is sent again (and stops after a few tries)', async () => {
    const m = policyAccount(1);
    m.iam.on(GetPolicyVersionCommand).resolves({ PolicyVersion: { Document: old } });
    m.iam
      .on(CreatePolicyVersionCommand)
      .rejects(Object.assign(awsError('ServiceFailure'), { $metadata: { httpStatusCode: 500 } }));
    const result = await applyPlan(await makePlan(config, m.gateway), m.gateway, {}, FAST);
    expect(result.outcome).toBe('failed');
    expect(m.iam.commandCalls(CreatePolicyVersionCommand)).toHaveLength(5);
  });

  it('another run took the version slot meanwhile (LimitExceeded): read again, make room, then create', async () => {
    const m = policyAccount(4);
    m.iam
      .on(GetPolicyVersionCommand)
      .resolvesOnce({ PolicyVersion: { Document: old } })
      .resolvesOnce({ PolicyVersion: { Document: old } })
      .resolves({
        PolicyVersion: { Document: wanted },
      });
    m.iam.on(CreatePolicyVersionCommand).rejectsOnce(awsError('LimitExceeded')).resolves({});
    m.iam
      .on(ListPolicyVersionsCommand)
      .resolvesOnce({
        Versions: Array.from({ length: 4 }, (_, i) => ({
          VersionId: `v${i + 1}`,
          IsDefaultVersion: i === 0,
          CreateDate: new Date(2024, i, 1),
        })),
      })
      .resolves({
        Versions: Array.from({ length: 5 }, (_, i) => ({
          VersionId: `v${i + 1}`,
          IsDefaultVersion: i === 0,
          CreateDate: new Date(2024, i, 1),
        })),
      });
    m.iam.on(DeletePolicyVersionCommand).resolves({});
    const plan = await makePlan(config, m.gateway);
    expect(planSteps(plan).map((s) => s.op)).toEqual(['CreatePolicyVersion']);
    const result = await applyPlan(plan, m.gateway, {}, FAST);
    expect(result.outcome).toBe('complete');
    expect(m.iam.commandCalls(DeletePolicyVersionCommand)).toHaveLength(1);
    expect(m.iam.commandCalls(CreatePolicyVersionCommand)).toHaveLength(2);
  });

  it('a version another run already deleted is not an error', async () => {
    const m = policyAccount(5);
    m.iam
      .on(GetPolicyVersionCommand)
      .resolvesOnce({ PolicyVersion: { Document: old } })
      .resolves({ PolicyVersion: { Document: wanted } });
    m.iam.on(DeletePolicyVersionCommand).rejects(awsError('NoSuchEntity'));
    m.iam.on(CreatePolicyVersionCommand).resolves({});
    const result = await applyPlan(await makePlan(config, m.gateway), m.gateway, {}, FAST);
    expect(result.outcome).toBe('complete');
  });
});

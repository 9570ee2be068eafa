/**
 * What the wizard asks of the engine and the AWS layer beyond a plan: the clusters of a region (every page), waiting
 * for a cluster (backoff, abortable, giving up), and a plan of one section with facts already known.
 */
import { DescribeClusterCommand, ListClustersCommand } from '@aws-sdk/client-eks';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { GetRoleCommand, ListAttachedRolePoliciesCommand } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/load/config.js';
import { waitForCluster } from '../../src/engine/cluster-wait.js';
import { makePlan } from '../../src/engine/engine.js';
import { awsError, ISSUER, mockAws } from '../helpers/mock-aws.js';

const FAST = { initialDelayMs: 1, maxDelayMs: 2 };

describe('listClusters', () => {
  it('reads every page', async () => {
    const m = mockAws();
    m.eks
      .on(ListClustersCommand, { nextToken: undefined })
      .resolves({ clusters: ['a', 'b'], nextToken: 't1' })
      .on(ListClustersCommand, { nextToken: 't1' })
      .resolves({ clusters: ['c'] });
    expect(await m.gateway.listClusters()).toEqual(['a', 'b', 'c']);
    expect(m.eks.commandCalls(ListClustersCommand)).toHaveLength(2);
  });

  it('a refusal names the EKS action', async () => {
    const m = mockAws();
    m.eks.on(ListClustersCommand).rejects(awsError('AccessDeniedException'));
    await expect(m.gateway.listClusters()).rejects.toThrow(/access denied: eks:ListClusters on region eu-west-1/);
  });
});

describe('waitForCluster', () => {
  it('polls until the cluster exists with its issuer, reporting each status', async () => {
    const m = mockAws();
    m.eks
      .on(DescribeClusterCommand)
      .rejectsOnce(awsError('ResourceNotFoundException'))
      .resolvesOnce({ cluster: { name: 'acme', status: 'CREATING' } })
      .resolves({ cluster: { name: 'acme', status: 'ACTIVE', identity: { oidc: { issuer: ISSUER } } } });
    const seen: (string | undefined)[] = [];
    const result = await waitForCluster(m.gateway, 'acme', { ...FAST, onStatus: (s) => seen.push(s) });
    expect(result).toEqual({
      state: 'ready',
      cluster: { state: 'ready', name: 'acme', status: 'ACTIVE', issuerUrl: ISSUER },
    });
    expect(seen).toEqual([undefined, 'CREATING', 'ACTIVE']);
  });

  it('stops as soon as it is aborted, without another call', async () => {
    const m = mockAws();
    m.eks.on(DescribeClusterCommand).resolves({ cluster: { name: 'acme', status: 'CREATING' } });
    const controller = new AbortController();
    const waiting = waitForCluster(m.gateway, 'acme', {
      initialDelayMs: 60_000,
      signal: controller.signal,
      onStatus: () => controller.abort(),
    });
    expect(await waiting).toEqual({ state: 'aborted' });
    expect(m.eks.commandCalls(DescribeClusterCommand)).toHaveLength(1);
  });

  it("a cluster of another region: its facts say that region (a config's cluster of several)", async () => {
    const m = mockAws();
    m.eks
      .on(DescribeClusterCommand, { name: 'acme-us' })
      .resolves({ cluster: { name: 'acme-us', status: 'ACTIVE', identity: { oidc: { issuer: ISSUER } } } });
    const result = await waitForCluster(m.gateway, 'acme-us', { ...FAST, region: 'us-east-2' });
    expect(result).toEqual({
      state: 'ready',
      cluster: { state: 'ready', name: 'acme-us', status: 'ACTIVE', issuerUrl: ISSUER, region: 'us-east-2' },
    });
  });

  it('a cluster that failed will not become ACTIVE: says so', async () => {
    const m = mockAws();
    m.eks.on(DescribeClusterCommand).resolves({ cluster: { name: 'acme', status: 'FAILED' } });
    await expect(waitForCluster(m.gateway, 'acme', FAST)).rejects.toThrow(/acme is FAILED: it will not become ACTIVE/);
  });

  it('gives up after the timeout with the last status', async () => {
    const m = mockAws();
    m.eks.on(DescribeClusterCommand).resolves({ cluster: { name: 'acme', status: 'CREATING' } });
    await expect(waitForCluster(m.gateway, 'acme', { ...FAST, timeoutMs: 20 })).rejects.toThrow(
      /was not ready after 0 minutes \(last status: CREATING\)/,
    );
  });
});

describe('makePlan for one section with known facts', () => {
  it('reads only that section and asks neither STS nor EKS again', async () => {
    const m = mockAws();
    m.iam.on(GetRoleCommand).rejects(awsError('NoSuchEntity'));
    m.iam.on(ListAttachedRolePoliciesCommand).rejects(awsError('NoSuchEntity'));
    const config = parseConfigText('bucket: acme-flyte-data\ncluster: acme\n');
    const full = await makePlan(config, m.gateway);
    const calls = m.sts.commandCalls(GetCallerIdentityCommand).length;
    const one = await makePlan(config, m.gateway, { only: ['nodeRole'], facts: full.facts });
    expect(one.sections.map((s) => s.id)).toEqual(['nodeRole']);
    expect(one.sections[0]!.status).toBe('create');
    expect(m.sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(calls);
    expect(m.eks.commandCalls(DescribeClusterCommand)).toHaveLength(1);
    expect(
      m.iam.commandCalls(GetRoleCommand).filter((c) => c.args[0].input.RoleName === 'flyte-eks-node-role'),
    ).toHaveLength(2);
  });
});

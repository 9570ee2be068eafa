import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { childrenCpuMs, parseStat, processCpuMs } from '../../bench/cpu.js';
import { floorOf } from '../../bench/floor.js';
import { endToEnd, longestChain, startProxy, type CallRecord } from '../../bench/proxy.js';
import { median } from '../../bench/measure.js';

/** Run `fn` with the benchmark's proxy (no latency, no lag) in front of `upstream`, then close both. */
async function throughProxy(upstream: Server, fn: (proxyUrl: string) => Promise<void>): Promise<void> {
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const proxy = await startProxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, {
    latencyMs: 0,
    lagMs: 0,
    clusterVpcIds: new Map(),
  });
  try {
    await fn(proxy.url);
  } finally {
    await proxy.close();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
  }
}

const call = (start: number, end: number): CallRecord => ({
  service: 'iam',
  operation: 'GetRole',
  write: false,
  start,
  end,
});

describe('the sequential round trips of a call timeline', () => {
  it('counts overlapping calls as one round trip', () => {
    expect(longestChain([call(0, 10), call(1, 11), call(2, 12)])).toBe(1);
  });

  it('counts calls that start after another ended as a chain', () => {
    expect(longestChain([call(0, 10), call(10, 20), call(21, 30)])).toBe(3);
  });

  it('takes the longest chain through a mixed timeline', () => {
    // a long call in parallel with a chain of three short ones, then one after all
    const records = [call(0, 30), call(0, 5), call(6, 12), call(13, 20), call(31, 40)];
    expect(longestChain(records)).toBe(4);
    expect(longestChain([])).toBe(0);
  });
});

const role = (steps: string[], action = 'create') => ({
  kind: 'role',
  action,
  steps: steps.map((op) => ({ op })),
});

describe('the floor of a plan', () => {
  it('chains a section after the sections it depends on, each resource created, changed and read back', () => {
    const floor = floorOf({
      sections: [
        { id: 'clusterRole', resources: [role(['CreateRole', 'AttachRolePolicy'])] },
        {
          id: 'oidcProvider',
          resources: [{ kind: 'oidc-provider', action: 'create', steps: [{ op: 'CreateOpenIDConnectProvider' }] }],
        },
        { id: 'customPolicy', resources: [{ kind: 'policy', action: 'create', steps: [{ op: 'CreatePolicy' }] }] },
        {
          id: 'projectRoles',
          resources: [role(['CreateRole', 'AttachRolePolicy', 'AttachRolePolicy']), role(['CreateRole'])],
        },
      ],
    });
    // reads 2, the preflight beside the second (roles to make); provider or policy 1 + read-back 1; then the project
    // role 1 + 1 + read-back 1
    expect(floor).toEqual({ rounds: 7, reads: 2, preflight: 0, writes: 5, writeCalls: 8 });
  });

  it('gives the preflight a round of its own when the plan makes no role (the first round shows no change)', () => {
    const floor = floorOf({
      sections: [{ id: 'clusterRole', resources: [role(['AttachRolePolicy'], 'update')] }],
    });
    expect(floor).toEqual({ rounds: 5, reads: 2, preflight: 1, writes: 2, writeCalls: 1 });
    // Making a role and changing one that exists: the change is asked after the reads.
    const both = floorOf({
      sections: [
        { id: 'clusterRole', resources: [role(['CreateRole'])] },
        { id: 'nodeRole', resources: [role(['AttachRolePolicy'], 'update')] },
      ],
    });
    expect(both.preflight).toBe(1);
  });

  it('has no preflight and a third read round on an account where the policy exists and nothing changes', () => {
    const floor = floorOf({
      sections: [
        { id: 'customPolicy', resources: [{ kind: 'policy', action: 'unchanged', steps: [] }] },
        { id: 'systemRole', resources: [role([], 'unchanged')] },
      ],
    });
    expect(floor).toEqual({ rounds: 3, reads: 3, preflight: 0, writes: 0, writeCalls: 0 });
  });

  it('turns the VPC DNS attributes on one after the other', () => {
    const vpc = {
      kind: 'vpc-dns',
      action: 'update',
      steps: [{ op: 'ModifyVpcAttribute' }, { op: 'ModifyVpcAttribute' }],
    };
    expect(floorOf({ sections: [{ id: 'clusterVpc', resources: [vpc] }] }).writes).toBe(2);
  });
});

describe('the floor of the other modes', () => {
  const created = (kind: string, op: string) => ({ kind, action: 'create', steps: [{ op }] });
  const provider = created('oidc-provider', 'CreateOpenIDConnectProvider');
  const policy = created('policy', 'CreatePolicy');
  const systemRole = { id: 'systemRole', resources: [role(['CreateRole', 'AttachRolePolicy'])] };

  it('puts the Pod Identity associations and the add-on after the roles they name, each created and read back', () => {
    const floor = floorOf({
      sections: [
        { id: 'oidcProvider', resources: [] },
        { id: 'customPolicy', resources: [policy] },
        systemRole,
        {
          id: 'podIdentity',
          resources: [
            created('addon', 'CreateAddon'),
            created('pod-identity-association', 'CreatePodIdentityAssociation'),
            created('pod-identity-association', 'CreatePodIdentityAssociation'),
          ],
        },
      ],
    });
    // reads 2, the preflight beside the second; the policy 1 + read-back 1; the role 1 + 1 + read-back 1; the
    // associations 1 + read-back 1
    expect(floor).toEqual({ rounds: 9, reads: 2, preflight: 0, writes: 7, writeCalls: 6 });
  });

  it("adds no round for a second cluster's OIDC provider, only its call", () => {
    const one = floorOf({ sections: [{ id: 'oidcProvider', resources: [provider] }, systemRole] });
    const two = floorOf({ sections: [{ id: 'oidcProvider', resources: [provider, provider] }, systemRole] });
    expect(two.rounds).toBe(one.rounds);
    expect(two.writeCalls).toBe(one.writeCalls + 1);
  });
});

describe("the benchmark's proxy", () => {
  it('drops the headers of a hop, and those its Connection header names', () => {
    expect(
      endToEnd({
        connection: 'close, x-hop',
        'keep-alive': 'timeout=5',
        'x-hop': '1',
        'transfer-encoding': 'chunked',
        'x-amzn-requestid': 'r',
      }),
    ).toEqual({ 'x-amzn-requestid': 'r' });
  });

  it("passes on a request's end-to-end headers and whole body, not the headers of the client's hop", async () => {
    let received: { headers: IncomingHttpHeaders; body: string } | undefined;
    const upstream = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        received = { headers: req.headers, body };
        res.writeHead(200).end('<ok/>');
      });
    });
    await throughProxy(upstream, async (proxyUrl) => {
      await new Promise<void>((resolve, reject) => {
        // Sent in two chunks, without a length: the client's hop frames it (Transfer-Encoding: chunked).
        const req = httpRequest(
          `${proxyUrl}/`,
          {
            method: 'POST',
            headers: { connection: 'keep-alive, x-hop', 'keep-alive': 'timeout=5', 'x-hop': '1', 'x-amz-target': 't' },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve());
          },
        );
        req.on('error', reject);
        req.write('Action=GetRole&');
        req.end('RoleName=x');
      });
      expect(received?.body).toBe('Action=GetRole&RoleName=x');
      expect(received?.headers['x-amz-target']).toBe('t');
      expect(received?.headers['x-hop']).toBeUndefined();
      expect(received?.headers['keep-alive']).toBeUndefined();
      expect(received?.headers.connection ?? '').not.toContain('x-hop');
    });
  });

  it('keeps a client connection open where the emulator closes each one after its answer', async () => {
    const upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { connection: 'close', 'x-amzn-requestid': 'r' }).end('<ok/>'));
    });
    await throughProxy(upstream, async (proxyUrl) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const ask = () =>
        new Promise<{ reused: boolean; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
          const req = httpRequest(`${proxyUrl}/`, { method: 'POST', agent }, (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve({ reused: req.reusedSocket, headers: res.headers, body }));
          });
          req.on('error', reject);
          req.end('Action=GetRole&RoleName=x');
        });
      try {
        const first = await ask();
        const second = await ask();
        expect(first).toMatchObject({ reused: false, body: '<ok/>', headers: { 'x-amzn-requestid': 'r' } });
        expect(first.headers.connection).toBe('keep-alive');
        expect(second).toMatchObject({ reused: true, body: '<ok/>' });
      } finally {
        agent.destroy();
      }
    });
  });
});

describe('CPU time, as /proc counts it', () => {
  it('takes the four counters after the command name, which may hold spaces and parentheses', () => {
    // proc(5): pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime
    // cstime priority ...
    const line = '4242 (moto (srv) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 123 45 67 89 20 0 3 0 500 1000 200\n';
    expect(parseStat(line)).toEqual({ utime: 123, stime: 45, cutime: 67, cstime: 89 });
    expect(() => parseStat('4242 moto S 1')).toThrow(/not a \/proc stat line/);
    expect(() => parseStat('4242 (moto) S 1 2 3')).toThrow(/field 14/);
  });

  // /proc is Linux's: elsewhere the bench reports CPU time as not measured, and there is nothing to read here.
  it.skipIf(!existsSync('/proc/self/stat'))(
    "counts an ended child's CPU time once it is waited for, as much as the child itself counted, and a process's own",
    async () => {
      const before = childrenCpuMs()!;
      // Spawned as the bench spawns a contender: it computes for 150 ms, then says how much CPU it used in all.
      const burn =
        'const t = process.cpuUsage(); while (process.cpuUsage(t).user < 150_000) for (let i = 0; i < 1e5; i++); ' +
        'const u = process.cpuUsage(); console.log((u.user + u.system) / 1000);';
      const child = spawn(process.execPath, ['-e', burn], { stdio: ['ignore', 'pipe', 'inherit'] });
      let said = '';
      child.stdout.on('data', (d: Buffer) => (said += d.toString()));
      // 'close': after it was waited for ('exit', as the bench waits) and its output read to the end.
      expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0);
      const counted = childrenCpuMs()! - before;
      const own = Number(said);
      expect(own).toBeGreaterThanOrEqual(150);
      // The kernel counts in ticks (10 ms), and the child's exit comes after what it said.
      expect(counted).toBeGreaterThanOrEqual(own - 30);
      expect(counted).toBeLessThanOrEqual(own + 40);

      const self = processCpuMs(process.pid)!;
      const t = process.cpuUsage();
      while (process.cpuUsage(t).user < 60_000) {
        // computing, for the counter to see
      }
      expect(processCpuMs(process.pid)! - self).toBeGreaterThanOrEqual(40);
      expect(processCpuMs(undefined)).toBeUndefined();
    },
  );
});

describe('the median of a set of runs', () => {
  it('is the middle run, or the mean of the two middle ones, whatever the order', () => {
    expect(median([900, 680, 699])).toBe(699);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });
});

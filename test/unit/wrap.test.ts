/** Text fitted to the terminal: at spaces, under where the text starts, never inside a word but an over-long one. */
import { describe, expect, it } from 'vitest';
import { renderHandoff } from '../../src/render/handoff-text.js';
import { makeStyle } from '../../src/render/style.js';
import { columnsOf, fitLine, visibleLength, wrapText } from '../../src/render/wrap.js';
import { rule } from '../../src/wizard/text.js';

const words = (lines: string[]) =>
  lines
    .join(' ')
    .split(/\s+/)
    .filter((w) => w !== '' && w !== '\\');

describe('fitting lines to the terminal', () => {
  it('a line that fits is left as it is, its spaces too', () => {
    expect(fitLine('  Account    123456789012', 80)).toEqual(['  Account    123456789012']);
  });

  it('a paragraph breaks at spaces; the lines after a bullet, a label or a mark go on under its text', () => {
    expect(
      wrapText('Flyte keeps its data in one S3 bucket, and the roles get access to that bucket only.', 30),
    ).toEqual(['Flyte keeps its data in one S3', 'bucket, and the roles get', 'access to that bucket only.']);
    expect(fitLine('  - every namespace, as the Flyte guide does: a new project works at once', 40)).toEqual([
      '  - every namespace, as the Flyte guide',
      '    does: a new project works at once',
    ]);
    expect(fitLine('       tags      managed-by=flyte-aws-setup, team=machine-learning', 60)).toEqual([
      '       tags      managed-by=flyte-aws-setup,',
      '                 team=machine-learning',
    ]);
    expect(fitLine('✓ EKS cluster role: created  arn:aws:iam::123456789012:role/flyte-eks-cluster-role', 60)).toEqual([
      '✓ EKS cluster role: created',
      '  arn:aws:iam::123456789012:role/flyte-eks-cluster-role',
    ]);
  });

  it('a word longer than a line breaks after a / or : (an ARN, a path), not inside a name', () => {
    const arn =
      'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF';
    expect(fitLine(`       trust     Federated ${arn} -> sts:AssumeRoleWithWebIdentity`, 80)).toEqual([
      '       trust     Federated arn:aws:iam::123456789012:oidc-provider/',
      '                 oidc.eks.eu-west-1.amazonaws.com/id/',
      '                 0123456789ABCDEF0123456789ABCDEF ->',
      '                 sts:AssumeRoleWithWebIdentity',
    ]);
    // With no place to break, it is cut: there is no better place.
    expect(fitLine('x'.repeat(25), 10)).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)]);
  });

  it('a command goes on with " \\" so that it can still be copied', () => {
    expect(
      fitLine(
        '  helm install flyte-backend flyteorg/flyte-binary --namespace flyte --values out/binary-values.yaml',
        60,
      ),
    ).toEqual([
      '  helm install flyte-backend flyteorg/flyte-binary \\',
      '      --namespace flyte --values out/binary-values.yaml',
    ]);
    expect(fitLine('Continue:  npx flyte-aws-setup --config flyte-aws-setup-2.yaml --interactive', 60)).toEqual([
      'Continue:  npx flyte-aws-setup --config \\',
      '               flyte-aws-setup-2.yaml --interactive',
    ]);
  });

  it('colour codes take no room', () => {
    const s = makeStyle(true);
    const line = s.warn('(!) marks a security-relevant change: it lets more principals in, or grants more.');
    const lines = fitLine(line, 40);
    expect(lines.map(visibleLength).every((n) => n <= 40)).toBe(true);
    expect(words(lines.map((l) => l.replace(/\x1b\[[0-9;]*m/g, '')))).toEqual(
      words([line.replace(/\x1b\[[0-9;]*m/g, '')]),
    );
  });

  it('any text, any width from 20 to 120: no line is longer, no word that fits a line is broken', () => {
    const vocabulary =
      'a an the of cluster role namespace Flyte bucket policy trust-policy eu-west-1 sts:AssumeRole'.split(' ');
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let i = 0; i < 300; i++) {
      const width = 20 + random(101);
      const text = Array.from({ length: 5 + random(40) }, () => vocabulary[random(vocabulary.length)]).join(' ');
      const lead = ' '.repeat(random(6));
      const lines = fitLine(`${lead}${text}`, width);
      for (const l of lines) expect(visibleLength(l), `${width}: ${l}`).toBeLessThanOrEqual(width);
      expect(words(lines)).toEqual(words([text]));
    }
  });

  it('the hand-off report on a narrow terminal: what a file is goes under it; a note under a command is one paragraph', () => {
    const report = {
      result: {
        dir: './out',
        files: [
          { path: 'a.yaml', shown: 'out/a.yaml', outcome: 'written' as const, what: 'Helm values for flyte-binary' },
          {
            path: 'b/c.yaml',
            shown: 'out/b/c.yaml',
            outcome: 'unchanged' as const,
            what: 'attributes of fraud/staging',
          },
        ],
        stale: [],
      },
      where: 'account 1, region eu-west-1',
      caveats: [],
      next: ['sh out/c.sh', '  WARNING: it REPLACES ALL the attributes', '  of the project-domain.'],
    };
    const style = makeStyle(false);
    expect(renderHandoff(report, style).split('\n').slice(1, 3)).toEqual([
      '  written   out/a.yaml    Helm values for flyte-binary',
      '  unchanged out/b/c.yaml  attributes of fraud/staging',
    ]);
    expect(renderHandoff(report, style, { columns: 40 }).split('\n').slice(1)).toEqual([
      '  written   out/a.yaml',
      '            Helm values for flyte-binary',
      '  unchanged out/b/c.yaml',
      '            attributes of fraud/staging',
      'Next:',
      '  sh out/c.sh',
      '    WARNING: it REPLACES ALL the attributes of the project-domain.',
    ]);
  });

  it('the width of a terminal, 80 otherwise; rules fit it', () => {
    expect(columnsOf({ isTTY: true, columns: 60 })).toBe(60);
    expect(columnsOf({ isTTY: false, columns: 60 })).toBe(80);
    expect(columnsOf({ isTTY: true })).toBe(80);
    expect([...rule('1/9  EKS cluster role', 60)].length).toBe(60);
    expect([...rule('1/9  EKS cluster role', 200)].length).toBe(78);
  });
});

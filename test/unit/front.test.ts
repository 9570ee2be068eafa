/**
 * The start-up file (src/front.ts) answers `--version` and the help from the pages the build writes into it: what
 * it prints must be what the CLI prints, byte for byte, at every width, and it must answer nothing else.
 */
import { Help, type Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram, helpPage, helpPages, main } from '../../src/cli.js';
import { quickAnswer } from '../../src/front.js';
import { formatHelp } from '../../src/render/help.js';
import { VERSION } from '../../src/version.js';
import { answeredLines } from '../helpers/help-lines.js';
import { captureIo } from '../helpers/in-process.js';

// As the build writes them into the start-up file: through JSON.
const answers = { version: VERSION, pages: JSON.parse(JSON.stringify(helpPages())) as ReturnType<typeof helpPages> };
const COMMANDS = Object.keys(answers.pages).filter((name) => name !== '');

/** The CLI itself (commander), on a terminal `width` columns wide (0: not a terminal). */
async function cli(argv: string[], width: number) {
  const c = captureIo();
  if (width > 0) Object.assign(c.io.stdout, { isTTY: true, columns: width });
  const code = await main(argv, c.io);
  return { code, stdout: c.out(), stderr: c.err() };
}

describe('the start-up file', () => {
  it('has a page for the main command and for every command', () => {
    expect(COMMANDS.sort()).toEqual(['apply', 'destroy', 'init', 'outputs', 'permissions', 'plan', 'probe', 'verify']);
  });

  const lines = answeredLines(COMMANDS);
  it.each([0, 20, 33, 40, 60, 80, 100, 132, 200])('prints what the CLI prints, at width %i', async (width) => {
    for (const argv of lines) {
      const ran = await cli(argv, width);
      expect(ran.code, argv.join(' ')).toBe(0);
      expect(ran.stderr).toBe('');
      expect(quickAnswer(argv, answers, width === 0 ? 80 : width), argv.join(' ')).toBe(ran.stdout);
    }
  });

  it.each([
    [[]],
    [['--config', 'x.yaml', '--help']],
    [['help', 'help']],
    [['help', '--help']],
    [['help', 'nosuchcommand']],
    [['nosuchcommand', '--help']],
    [['plan', '--help', '--json']],
    [['--version', '--help']],
    [['', '--help']],
    [['help', '']],
    [['--dry-run']],
  ])('leaves %j to the CLI', (argv) => {
    expect(quickAnswer(argv, answers, 80)).toBeUndefined();
  });

  it('reads the help pages only to print one (the start-up file parses them then)', () => {
    const unread = {
      version: VERSION,
      get pages(): typeof answers.pages {
        throw new Error('the pages were read');
      },
    };
    expect(quickAnswer(['--config', 'x.yaml', '--dry-run'], unread, 80)).toBeUndefined();
    expect(quickAnswer(['--version'], unread, 80)).toBe(`${VERSION}\n`);
    expect(() => quickAnswer(['--help'], unread, 80)).toThrow('the pages were read');
  });

  it.each([20, 33, 40, 60, 80, 132, 200])(
    "lays out every command's lists as commander's own formatHelp does, at width %i",
    (width) => {
      const program = buildProgram(captureIo().io, () => {});
      for (const cmd of [program, ...program.commands] as Command[]) {
        const helper = cmd.createHelp();
        helper.prepareContext({ helpWidth: width, outputHasColors: false });
        const commanders = Help.prototype.formatHelp.call(helper, cmd, helper);
        expect(formatHelp({ ...helpPage(cmd, helper), after: [] }, width), cmd.name()).toBe(commanders);
      }
    },
  );

  it("lays out a page as commander does: terms in one column, descriptions wrapped beside them, then what's after", () => {
    const page = {
      usage: 'tool [options]',
      description: 'Does one thing.',
      lists: [
        { heading: 'Arguments:', items: [] },
        {
          heading: 'Options:',
          items: [
            ['-a, --all', 'every one of them, which takes a long description'],
            ['--b <n>', 'b'],
          ] as [string, string][],
        },
      ],
      after: ['Exit codes: 0 done, 1 failed.', { title: 'Examples:', examples: [['tool --all', 'all of them']] }],
    } satisfies Parameters<typeof formatHelp>[0];
    expect(formatHelp(page, 40)).toBe(
      [
        'Usage: tool [options]',
        '',
        'Does one thing.',
        '',
        'Options:',
        '  -a, --all  every one of them, which',
        '             takes a long description',
        '  --b <n>    b',
        '',
        'Exit codes: 0 done, 1 failed.',
        '',
        'Examples:',
        '  tool --all    # all of them',
        '',
        '',
      ].join('\n'),
    );
  });
});

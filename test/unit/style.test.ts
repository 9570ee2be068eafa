/** The output's colours are what chalk writes at its 16-colour level (the styles are written out in src/render/style.ts). */
import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { makeStyle, plainStyle, type Style } from '../../src/render/style.js';

const chalk = new Chalk({ level: 1 });
const CHALK: Record<keyof Style, (s: string) => string> = {
  add: chalk.green,
  change: chalk.yellow,
  remove: chalk.red,
  warn: chalk.yellow,
  error: chalk.red,
  ok: chalk.green,
  dim: chalk.dim,
  bold: chalk.bold,
};

const TEXTS = [
  '',
  'role flyte-system-role',
  'two\nlines',
  'windows\r\nlines\n',
  '\n',
  `a ${chalk.bold('bold')} word`,
  `a ${chalk.green('green')} and ${chalk.red('red')} word`,
  `${chalk.dim('dim')}\n${chalk.yellow('yellow\nover two lines')}`,
];

describe('colours', () => {
  it.each(Object.keys(CHALK) as (keyof Style)[])('%s writes what chalk writes', (name) => {
    const style = makeStyle(true);
    for (const text of TEXTS) expect(JSON.stringify(style[name](text)), text).toBe(JSON.stringify(CHALK[name](text)));
    // Nested in another style of its own output, as the plan's lines are.
    const inner = style.bold('x');
    expect(style[name](`<${inner}>`)).toBe(CHALK[name](`<${chalk.bold('x')}>`));
  });

  it('without colours the text is left as it is', () => {
    for (const name of Object.keys(CHALK) as (keyof Style)[]) {
      for (const text of TEXTS) expect(plainStyle[name](text)).toBe(text);
      expect(makeStyle(false)[name]('x\ny')).toBe('x\ny');
    }
  });
});

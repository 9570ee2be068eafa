/** The command lines the start-up file (src/front.ts) answers itself, for the commands named. */
export function answeredLines(commands: readonly string[]): string[][] {
  return [
    ['--version'],
    ['-V'],
    ['--help'],
    ['-h'],
    ['help'],
    ...commands.flatMap((c) => [
      [c, '--help'],
      [c, '-h'],
      ['help', c],
    ]),
  ];
}

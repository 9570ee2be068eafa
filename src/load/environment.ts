/**
 * The environment variables that set how the tool talks to AWS, checked like the flags that stand for them: a bad
 * value is bad input, named with what is allowed, before any AWS call (the SDK would otherwise ignore it, or fail
 * later with its own words).
 */
import { UsageError } from '../errors.js';

/** A plain whole number from `min` to `max`, as written (no sign, exponent, hex or blanks). */
export function wholeNumber(value: string, min: number, max: number): number | undefined {
  if (!/^\d{1,9}$/.test(value)) return undefined;
  const n = Number(value);
  return n >= min && n <= max ? n : undefined;
}

const RULES: { name: string; allowed: string; valid(value: string): boolean; instead?: string }[] = [
  {
    name: 'AWS_MAX_ATTEMPTS',
    allowed: 'a whole number from 1 to 20',
    valid: (v) => wholeNumber(v, 1, 20) !== undefined,
    instead: '--max-attempts',
  },
  {
    name: 'AWS_RETRY_MODE',
    allowed: 'standard, adaptive or legacy',
    valid: (v) => ['standard', 'adaptive', 'legacy'].includes(v),
  },
  {
    name: 'FLYTE_AWS_SETUP_MAX_RETRY_DELAY_MS',
    allowed: 'a whole number of milliseconds from 0 to 600000',
    valid: (v) => wholeNumber(v, 0, 600_000) !== undefined,
  },
  {
    name: 'FLYTE_AWS_SETUP_REQUEST_TIMEOUT',
    allowed: 'a whole number of seconds from 1 to 3600',
    valid: (v) => wholeNumber(v, 1, 3600) !== undefined,
  },
];

/** Throws a UsageError for the first variable whose value is not allowed; an empty or unset one is fine. */
export function checkEnvironment(env: NodeJS.ProcessEnv): void {
  for (const rule of RULES) {
    const value = env[rule.name];
    if (value === undefined || value === '' || rule.valid(value)) continue;
    throw new UsageError(
      `${rule.name} must be ${rule.allowed}, not ${JSON.stringify(value)}`,
      `fix or unset it${rule.instead ? `, or pass ${rule.instead}` : ''}`,
    );
  }
}

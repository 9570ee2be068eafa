/**
 * Does a named AWS profile exist? The SDK only says "could not load credentials" for a profile that is not there;
 * checking the two shared files first gives the user the real reason.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

function sections(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return [...text.matchAll(/^\s*\[([^\]]+)\]\s*$/gm)].map((m) => m[1]!.trim());
}

/** The profile names in ~/.aws/config and ~/.aws/credentials (or AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE). */
export function profileNames(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HOME ?? env.USERPROFILE ?? homedir();
  const config = env.AWS_CONFIG_FILE ?? join(home, '.aws', 'config');
  const credentials = env.AWS_SHARED_CREDENTIALS_FILE ?? join(home, '.aws', 'credentials');
  const fromConfig = sections(config)
    .filter((s) => s === 'default' || s.startsWith('profile '))
    .map((s) => s.replace(/^profile\s+/, ''));
  return [...new Set([...fromConfig, ...sections(credentials)])];
}

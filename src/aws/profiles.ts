/**
 * What the machine's AWS settings offer before any call: the named profiles of the shared config and credentials
 * files (for the wizard to choose from), and the region the SDK would use for a profile.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { STSClient } from '@aws-sdk/client-sts';

/** Profile names in ~/.aws/config (`[default]`, `[profile NAME]`) and ~/.aws/credentials (`[NAME]`), sorted. */
export function profileNames(env: NodeJS.ProcessEnv = process.env): string[] {
  const home = env.HOME || homedir();
  const files: [string, 'config' | 'credentials'][] = [
    [env.AWS_CONFIG_FILE || join(home, '.aws', 'config'), 'config'],
    [env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'), 'credentials'],
  ];
  const names = new Set<string>();
  for (const [file, kind] of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const match of text.matchAll(/^[ \t]*\[([^\]\r\n]+)\]/gm)) {
      const header = match[1]!.trim();
      if (kind === 'credentials' || header === 'default') names.add(header);
      else if (header.startsWith('profile ')) names.add(header.slice('profile '.length).trim());
      // Other sections of the config file (sso-session, services) are not profiles.
    }
  }
  return [...names].sort((a, b) => (a === 'default' ? -1 : b === 'default' ? 1 : a.localeCompare(b)));
}

/** The region the SDK resolves for this profile (AWS_REGION, then the profile's), or undefined when none is set. */
export async function defaultRegion(profile?: string): Promise<string | undefined> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sts = new STSClient(profile !== undefined ? { profile } : {});
  try {
    return (await sts.config.region()) || undefined;
  } catch {
    return undefined;
  } finally {
    sts.destroy();
  }
}

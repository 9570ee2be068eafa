/**
 * What the machine's AWS settings offer before any call: the named profiles of the shared config and credentials
 * files (for the wizard to choose from), a profile's settings (its max_attempts, retry_mode) and where its
 * credentials come from (for a hint that fits it when they fail), and the region the SDK would use for a profile.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

type FileKind = 'config' | 'credentials';

function sharedFiles(env: NodeJS.ProcessEnv): [string, FileKind][] {
  const home = env.HOME || homedir();
  return [
    [env.AWS_CONFIG_FILE || join(home, '.aws', 'config'), 'config'],
    [env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'), 'credentials'],
  ];
}

/** The profile a section header names, or undefined for other sections of the config file (sso-session, services). */
function profileOf(header: string, kind: FileKind): string | undefined {
  if (kind === 'credentials' || header === 'default') return header;
  if (header.startsWith('profile ')) return header.slice('profile '.length).trim();
  return undefined;
}

/** Every profile's settings, the config file's first and the credentials file's over them (as the SDK reads them). */
function readProfiles(env: NodeJS.ProcessEnv): Map<string, Record<string, string>> {
  const profiles = new Map<string, Record<string, string>>();
  for (const [file, kind] of sharedFiles(env)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    let current: Record<string, string> | undefined;
    for (const line of text.split(/\r?\n/)) {
      const header = /^[ \t]*\[([^\]\r\n]+)\]/.exec(line);
      if (header) {
        const name = profileOf(header[1]!.trim(), kind);
        current = undefined;
        if (name !== undefined) profiles.set(name, (current = profiles.get(name) ?? {}));
        continue;
      }
      // Indented lines are sub-settings (`s3 =` and what follows); comments start with # or ;.
      const setting = /^([A-Za-z0-9_.-]+)[ \t]*=[ \t]*(.*?)[ \t]*$/.exec(line);
      if (current !== undefined && setting) current[setting[1]!.toLowerCase()] = setting[2]!;
    }
  }
  return profiles;
}

/** Profile names in ~/.aws/config (`[default]`, `[profile NAME]`) and ~/.aws/credentials (`[NAME]`), sorted. */
export function profileNames(env: NodeJS.ProcessEnv = process.env): string[] {
  const names = [...readProfiles(env).keys()];
  return names.sort((a, b) => (a === 'default' ? -1 : b === 'default' ? 1 : a.localeCompare(b)));
}

/** One setting of a profile (`max_attempts`, `retry_mode`, ...), or undefined. */
export function profileSetting(
  profile: string | undefined,
  key: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const value = readProfiles(env).get(profile ?? env.AWS_PROFILE ?? 'default')?.[key];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Where a profile's credentials come from, in the order the SDK decides it: a role assumed with another profile's
 * credentials (or a `credential_source`), keys in the file, a web identity token file, a `credential_process`,
 * AWS IAM Identity Center (SSO), `aws login`.
 */
export type ProfileSource =
  | { kind: 'assume-role'; sourceProfile?: string; credentialSource?: string }
  | { kind: 'static' | 'web-identity' | 'process' | 'sso' | 'login' | 'none' };

export function profileSource(profile: string, env: NodeJS.ProcessEnv = process.env): ProfileSource | undefined {
  const p = readProfiles(env).get(profile);
  if (p === undefined) return undefined;
  if (p.role_arn !== undefined && (p.source_profile !== undefined) !== (p.credential_source !== undefined)) {
    return {
      kind: 'assume-role',
      ...(p.source_profile !== undefined ? { sourceProfile: p.source_profile } : {}),
      ...(p.credential_source !== undefined ? { credentialSource: p.credential_source } : {}),
    };
  }
  if (p.aws_access_key_id !== undefined && p.aws_secret_access_key !== undefined) return { kind: 'static' };
  if (p.web_identity_token_file !== undefined && p.role_arn !== undefined) return { kind: 'web-identity' };
  if (p.credential_process !== undefined) return { kind: 'process' };
  if (['sso_start_url', 'sso_account_id', 'sso_session', 'sso_region', 'sso_role_name'].some((k) => k in p)) {
    return { kind: 'sso' };
  }
  if (p.login_session !== undefined) return { kind: 'login' };
  return { kind: 'none' };
}

/** The region the SDK resolves for this profile (AWS_REGION, then the profile's), or undefined when none is set. */
export async function defaultRegion(profile?: string): Promise<string | undefined> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // Loaded here, not with the module: the profiles are read where the SDK is not loaded yet (errors, --help).
  const { STSClient } = await import('@aws-sdk/client-sts');
  const sts = new STSClient(profile !== undefined ? { profile } : {});
  try {
    return (await sts.config.region()) || undefined;
  } catch {
    return undefined;
  } finally {
    sts.destroy();
  }
}

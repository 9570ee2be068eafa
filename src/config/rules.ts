/**
 * The naming rules of IAM, S3, EKS and Kubernetes, as small functions: each returns what is wrong (a sentence
 * that says what is allowed) or undefined when the value is fine. Used by the config schema and by the wizard's
 * prompts, so both say the same thing.
 */

export type Rule = (value: string) => string | undefined;

const IAM_NAME_CHARS = /^[\w+=,.@-]+$/;

export const roleName: Rule = (v) => {
  if (v.length < 1 || v.length > 64) return `must be 1 to 64 characters, not ${v.length}`;
  if (!IAM_NAME_CHARS.test(v)) return 'may only hold letters, digits and + = , . @ _ -';
  return undefined;
};

export const policyName: Rule = (v) => {
  if (v.length < 1 || v.length > 128) return `must be 1 to 128 characters, not ${v.length}`;
  if (!IAM_NAME_CHARS.test(v)) return 'may only hold letters, digits and + = , . @ _ -';
  return undefined;
};

/** IAM path: `/` or `/a/b/`, printable ASCII, at most 512 characters. */
export const iamPath: Rule = (v) => {
  if (v.length > 512) return `must be at most 512 characters, not ${v.length}`;
  if (!/^\/([\x21-\x7E]*\/)?$/.test(v))
    return 'must start and end with "/" and hold printable ASCII only, e.g. / or /flyte/';
  if (v.includes('//')) return 'must not hold an empty segment ("//")';
  return undefined;
};

/** S3 general-purpose bucket names. */
export const bucketName: Rule = (v) => {
  if (v.length < 3 || v.length > 63) return `must be 3 to 63 characters, not ${v.length}`;
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(v)) {
    return 'may only hold lower-case letters, digits, dots and hyphens, and must start and end with a letter or digit';
  }
  if (v.includes('..')) return 'must not hold two dots in a row';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(v)) return 'must not look like an IP address';
  if (/^(xn--|sthree-|amzn-s3-demo-)/.test(v)) return 'must not start with xn--, sthree- or amzn-s3-demo-';
  if (/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(v))
    return 'must not end with a suffix S3 reserves (-s3alias, --ol-s3, .mrap, --x-s3, --table-s3)';
  return undefined;
};

/** Region codes such as eu-west-1, us-gov-west-1, cn-north-1, ap-southeast-5. */
export const region: Rule = (v) =>
  // eu-west-1, us-gov-west-1, us-isob-east-1, eusc-de-east-1 (the European Sovereign Cloud).
  /^[a-z]{2,4}(-gov|-iso[a-z]?)?(-[a-z]+)+-\d{1,2}$/.test(v)
    ? undefined
    : 'must be an AWS region code such as eu-west-1';

/** The words of region codes before their number (eu-west-1, ap-southeast-5, mx-central-1). */
const REGION_DIRECTIONS = [
  'north',
  'south',
  'east',
  'west',
  'central',
  'northeast',
  'northwest',
  'southeast',
  'southwest',
];

/**
 * A region code that is one typo away from a real one (eu-wset-1: eu-west-1), for a hint when its endpoints cannot be
 * reached; undefined when its words are those of region codes (or it is not close to one). Not a check: AWS may open
 * regions with other words.
 */
export function regionTypo(v: string): string | undefined {
  const m = /^(.+)-([a-z]+)-(\d{1,2})$/.exec(v);
  if (m === null || REGION_DIRECTIONS.includes(m[2]!)) return undefined;
  const word = didYouMean(m[2]!, REGION_DIRECTIONS);
  return word !== undefined ? `${m[1]}-${word}-${m[3]}` : undefined;
}

/** EKS cluster names. */
export const clusterName: Rule = (v) => {
  if (v.length < 1 || v.length > 100) return `must be 1 to 100 characters, not ${v.length}`;
  if (!/^[0-9A-Za-z][A-Za-z0-9_-]*$/.test(v))
    return 'must start with a letter or digit and hold only letters, digits, - and _';
  return undefined;
};

/** A Kubernetes namespace, project or domain: a DNS label (RFC 1123), at most 63 characters. */
export const dnsLabel: Rule = (v) => {
  if (v.length < 1 || v.length > 63) return `must be 1 to 63 characters, not ${v.length}`;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v)) {
    return 'must be a DNS label: lower-case letters, digits and -, starting and ending with a letter or digit';
  }
  return undefined;
};

/** A Kubernetes service account name: a DNS subdomain, at most 253 characters. */
export const serviceAccountName: Rule = (v) => {
  if (v.length < 1 || v.length > 253) return `must be 1 to 253 characters, not ${v.length}`;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(v)) {
    return 'must be a DNS subdomain: lower-case letters, digits, - and ., starting and ending with a letter or digit';
  }
  return undefined;
};

const POLICY_ARN = /^arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}|aws):policy\/([\x21-\x7E]*\/)?[\w+=,.@-]{1,128}$/;

/** The ARN of a managed policy: `arn:aws:iam::aws:policy/Name` or `arn:aws:iam::123456789012:policy/path/Name`. */
export const policyArn: Rule = (v) =>
  POLICY_ARN.test(v)
    ? undefined
    : 'must be a managed policy ARN such as arn:aws:iam::aws:policy/PowerUserAccess or arn:aws:iam::123456789012:policy/my-policy';

const KMS_KEY_ARN = /^arn:(aws|aws-cn|aws-us-gov):kms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:key\/(mrk-)?[0-9a-f-]{32,36}$/;

/**
 * The ARN of a KMS key: `arn:aws:kms:REGION:ACCOUNT:key/KEY-ID`. An alias ARN is refused: an IAM policy that
 * names an alias does not grant use of the key behind it.
 */
export const kmsKeyArn: Rule = (v) =>
  KMS_KEY_ARN.test(v)
    ? undefined
    : /^arn:[a-z-]+:kms:[^:]*:[^:]*:alias\//.test(v)
      ? 'must be the key ARN, not an alias ARN (an IAM policy that names an alias grants nothing): aws kms describe-key --key-id ALIAS --query KeyMetadata.Arn prints it'
      : 'must be a KMS key ARN such as arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** An S3 key prefix of a grant: a literal beginning of object keys (no leading slash, no wildcard). */
export const s3Prefix: Rule = (v) => {
  if (v === '') return 'must not be empty (leave prefix out to grant the whole bucket)';
  if (v.startsWith('/')) return 'must not start with / (S3 keys do not)';
  if (/[*?]/.test(v)) return 'must not hold * or ? (it is a literal beginning of object keys)';
  if (v.length > 1024) return `must be at most 1024 characters, not ${v.length}`;
  return undefined;
};

/**
 * A Secrets Manager secret's name (letters, digits and /_+=.@-, at most 512), or a name prefix ending in `*` (every
 * secret whose name starts so).
 */
export const secretName: Rule = (v) => {
  const name = v.endsWith('*') ? v.slice(0, -1) : v;
  if (name === '') return 'must name a secret, or a name prefix followed by * (a lone * would grant every secret)';
  if (name.length > 512) return `must be at most 512 characters, not ${name.length}`;
  if (!/^[A-Za-z0-9/_+=.@-]+$/.test(name)) {
    return 'may only hold letters, digits and /_+=.@- (a name prefix ends with a single *), not an ARN';
  }
  return undefined;
};

/** An ECR repository ARN: `arn:aws:ecr:REGION:ACCOUNT:repository/NAME`. */
export const ecrRepositoryArn: Rule = (v) =>
  /^arn:(aws|aws-cn|aws-us-gov):ecr:[a-z]{2}(-[a-z]+)+-\d:\d{12}:repository\/[a-z0-9]+([._/-][a-z0-9]+)*$/.test(v)
    ? undefined
    : 'must be an ECR repository ARN such as arn:aws:ecr:us-east-1:123456789012:repository/team/trainer';

export const accountId: Rule = (v) => (/^\d{12}$/.test(v) ? undefined : 'must be a 12-digit AWS account ID');

export const profileName: Rule = (v) =>
  v.trim() === '' || /\s/.test(v) ? 'must be a profile name from ~/.aws/config, without spaces' : undefined;

const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

export const tagKey: Rule = (v) => {
  if (v.length < 1 || v.length > 128) return `tag keys must be 1 to 128 characters, not ${v.length}`;
  if (!TAG_CHARS.test(v)) return 'tag keys may only hold letters, digits, spaces and _ . : / = + - @';
  if (v.toLowerCase().startsWith('aws:')) return 'tag keys must not start with "aws:" (reserved by AWS)';
  return undefined;
};

export const tagValue: Rule = (v) => {
  if (v.length > 256) return `tag values must be at most 256 characters, not ${v.length}`;
  if (!TAG_CHARS.test(v)) return 'tag values may only hold letters, digits, spaces and _ . : / = + - @';
  return undefined;
};

/** A setup's name (`setup:`), written as a tag value: letters, digits and `_ . : / = + - @`, no spaces. */
export const setupName: Rule = (v) => {
  if (v.length < 1 || v.length > 128) return `must be 1 to 128 characters, not ${v.length}`;
  if (!/^[A-Za-z0-9_.:/=+@-]+$/.test(v)) return 'may only hold letters, digits and _ . : / = + - @ (it is a tag value)';
  return undefined;
};

/** At most 50 tags per IAM resource. */
export const MAX_TAGS = 50;
export const MANAGED_BY_KEY = 'managed-by';
export const MANAGED_BY_VALUE = 'flyte-aws-setup';
/**
 * How the description of every role the tool makes ends: ListRoles gives descriptions but not tags, so the roles of a
 * setup that the config no longer names are found by it without a call per role of the account.
 */
export const DESCRIPTION_MARK = 'managed by flyte-aws-setup';
/** Tag keys that start with this are the tool's own records; a config's `tags` may not use them. */
export const TOOL_TAG_PREFIX = 'flyte-aws-setup:';
/** The setup a resource belongs to (the config's `setup`). */
export const SETUP_KEY = 'flyte-aws-setup:setup';
/** The managed policies the tool attached to a role, in compact form (`-2`, `-3`... when long). */
export const ATTACHED_KEY = 'flyte-aws-setup:attached';
/** The trust a role had before the tool first changed it: JSON, zlib-deflated, base64 (`-2`, `-3`... when long). */
export const TRUST_KEY = 'flyte-aws-setup:trust';
/**
 * The description a role that existed before the tool had when the tool adopted it: the tool's mark is added to the
 * description of a role it adopts (`markedDescription`), so that ListRoles finds it when the config no longer names
 * it; destroy and --prune put the description back.
 */
export const DESCRIPTION_KEY = 'flyte-aws-setup:description';
/** The default version a policy had before the tool first changed its document. */
export const DEFAULT_VERSION_KEY = 'flyte-aws-setup:default-version';
/**
 * Tags the tool keeps for its own on a role it makes: managed-by, the setup, and up to three for the record of the
 * policies it attached (768 characters, about 25 policies). The config's `tags` get the rest.
 */
export const TOOL_TAGS_RESERVED = 5;

/** Edit distance, for did-you-mean: inserts, deletes, changes, and two letters swapped (`nmae`) count one each. */
export function editDistance(a: string, b: string): number {
  // Rows i-2, i-1 and i of the optimal-string-alignment table.
  let before: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
    }
    before = prev;
    prev = row;
  }
  return prev[b.length]!;
}

/** The closest of `candidates` to `word`, when one is close enough to be a likely typo. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase().replace(/[-_]/g, '');
  let best: { c: string; d: number } | undefined;
  for (const c of candidates) {
    const cl = c.toLowerCase().replace(/[-_]/g, '');
    const d = cl === lower ? 0 : editDistance(lower, cl);
    if (best === undefined || d < best.d) best = { c, d };
  }
  if (best === undefined) return undefined;
  const limit = Math.max(1, Math.floor(Math.max(word.length, best.c.length) / 3));
  return best.d <= limit ? best.c : undefined;
}

/**
 * Names in Amazon ECR: registries (an account id or a registry URI), repositories, tags and the tag
 * mutability rules, checked before any request so a bad input fails fast with a precise reason.
 */

/** A registry as the user named it. */
export type RegistryRef =
  /** Nothing given: the caller's default registry, the host taken from the token's proxyEndpoint. */
  | { kind: 'default' }
  /** A 12-digit account id: that account's registry in the client's region. */
  | { kind: 'account'; accountId: string }
  /**
   * A registry host (`<account>.dkr.ecr.<region>.amazonaws.com`, or any host[:port] such as a local
   * stand-in); `accountId`/`region` are set when the host is ECR-shaped.
   */
  | { kind: 'host'; host: string; accountId?: string | undefined; region?: string | undefined };

const ACCOUNT_ID = /^\d{12}$/;
/** Private ECR hosts, including the China, GovCloud and ISO partitions' domains. */
const ECR_HOST =
  /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d{1,2})\.(?:amazonaws\.com(?:\.cn)?|c2s\.ic\.gov|sc2s\.sgov\.gov)$/;
const HOST_PORT =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d{1,5})?$/;
/** ECR's repository name rule (lower case path components separated by `/`), 2 to 256 characters. */
const REPOSITORY = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
/** A Docker/OCI tag: at most 128 characters, not starting with `.` or `-`. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Why `value` is not a registry (account id, or registry URI), or undefined when it is one. */
export function parseRegistry(value: string | undefined): RegistryRef | { problem: string } {
  if (value === undefined || value.trim() === '') return { kind: 'default' };
  const text = value.trim();
  if (ACCOUNT_ID.test(text)) return { kind: 'account', accountId: text };
  if (/^\d+$/.test(text)) return { problem: 'an AWS account id has exactly 12 digits' };
  let host = text.replace(/^(?:https?:\/\/)/, '').replace(/\/+$/, '');
  if (host.includes('/')) {
    return { problem: 'expected a registry host without a path (put the repository in "repository")' };
  }
  host = host.toLowerCase();
  if (host.startsWith('public.ecr.aws')) {
    return { problem: 'ECR Public (public.ecr.aws) is not supported; use a private ECR registry' };
  }
  if (!HOST_PORT.test(host)) return { problem: 'expected a 12-digit account id or a registry host' };
  const ecr = ECR_HOST.exec(host);
  if (ecr) return { kind: 'host', host, accountId: ecr[1], region: ecr[2] };
  if (/amazonaws\.com/.test(host)) {
    return { problem: 'an ECR registry host looks like <account id>.dkr.ecr.<region>.amazonaws.com' };
  }
  return { kind: 'host', host };
}

export function isRegistryProblem(value: RegistryRef | { problem: string }): value is { problem: string } {
  return 'problem' in value;
}

/** Why `name` is not a valid ECR repository name, or undefined. */
export function repositoryProblem(name: string): string | undefined {
  if (name.length < 2 || name.length > 256) return 'an ECR repository name has 2 to 256 characters';
  if (name !== name.toLowerCase()) return 'ECR repository names are lower case';
  if (!REPOSITORY.test(name)) {
    return 'expected lower-case letters, digits and single . _ - separators, in components separated by /';
  }
  return undefined;
}

/**
 * Splits `repository` when it was given as a full image name (`<host>/<name>`): the first component
 * names a host when it holds a dot or a port, as Docker reads image names.
 */
export function splitRepository(value: string): { host?: string; name: string } {
  const text = value.trim().replace(/^(?:https?:\/\/)/, '');
  const slash = text.indexOf('/');
  if (slash > 0) {
    const first = text.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost') {
      return { host: first.toLowerCase(), name: text.slice(slash + 1) };
    }
  }
  return { name: text };
}

/** Why `tag` is not a valid image tag, or undefined. */
export function imageTagProblem(tag: string): string | undefined {
  if (tag.length > 128) return 'a tag has at most 128 characters';
  if (!TAG.test(tag)) {
    return 'a tag has letters, digits, _ . and -, and does not start with . or -';
  }
  return undefined;
}

export type TagMutabilityMode =
  'MUTABLE' | 'IMMUTABLE' | 'IMMUTABLE_WITH_EXCLUSION' | 'MUTABLE_WITH_EXCLUSION';

/** A repository's tag mutability setting, as DescribeRepositories reports it. */
export interface TagMutability {
  mode: TagMutabilityMode;
  /** WILDCARD filters (`*` matches any run of characters) that flip the mode for matching tags. */
  exclusions: string[];
}

function wildcardMatch(pattern: string, tag: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`).test(tag);
}

/** True when ECR refuses to move `tag` once it exists in a repository with this setting. */
export function isTagImmutable(mutability: TagMutability, tag: string): boolean {
  const excluded = mutability.exclusions.some((filter) => wildcardMatch(filter, tag));
  switch (mutability.mode) {
    case 'MUTABLE':
      return false;
    case 'IMMUTABLE':
      return true;
    case 'IMMUTABLE_WITH_EXCLUSION':
      return !excluded;
    case 'MUTABLE_WITH_EXCLUSION':
      return excluded;
  }
}

/**
 * The secret scan: which values of a run are secrets (from the names of its env and inputs, the
 * credentials inside kubeconfigs, and whatever the caller names), and whether any of them shows in what a
 * person reading the run sees (the masked log, the summary, the outputs, the annotations).
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/** A secret value and where it came from (`env AWS_SECRET_ACCESS_KEY`, `input "token"`, …). */
export interface KnownSecret {
  source: string;
  value: string;
}

/** Shorter values are ignored: they would match ordinary text. */
export const MIN_SECRET_LENGTH = 8;

const SECRET_ENV = /TOKEN|PASSWORD|PASSWD|SECRET|PRIVATE_KEY|CREDENTIAL/i;
/** Env names that look secret but hold a location, not a secret. */
const LOCATION_ENV = /_(URL|FILE|PATH|DIR)$/i;
/** Inputs holding a secret: token, github-token, password, secrets, kubeconfig, … (not `secret-headers`). */
const SECRET_INPUT = /^(?:.*-)?(?:token|password|passwd|secrets?|kubeconfig|credentials?|private-key)$/i;
/** Headers whose values are credentials whatever the action is told (as verify-health treats them). */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);

class SecretSet {
  readonly secrets: KnownSecret[] = [];
  add(source: string, value: unknown): void {
    if (typeof value !== 'string') return;
    const text = value.trim();
    if (text.length < MIN_SECRET_LENGTH) return;
    if (this.secrets.some((s) => s.value === text)) return;
    this.secrets.push({ source, value: text });
  }
}

/** The credentials in a kubeconfig (YAML, or its base64): tokens, passwords, client keys. */
export function kubeconfigSecrets(text: string): string[] {
  const found: string[] = [];
  let yamlText = text;
  const compact = text.replace(/\s+/g, '');
  if (/^[A-Za-z0-9+/=]+$/.test(compact) && compact.length >= 16) {
    const decoded = Buffer.from(compact, 'base64').toString('utf8');
    if (/apiVersion|clusters|users/.test(decoded)) yamlText = decoded;
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(yamlText);
  } catch {
    return found;
  }
  const users = (parsed as { users?: unknown } | null)?.users;
  if (!Array.isArray(users)) return found;
  for (const entry of users) {
    const user = (entry as { user?: Record<string, unknown> } | null)?.user;
    if (!user || typeof user !== 'object') continue;
    for (const key of ['token', 'password']) if (typeof user[key] === 'string') found.push(user[key]);
    const keyData = user['client-key-data'];
    if (typeof keyData === 'string') {
      found.push(keyData);
      // A printed key would show its PEM body lines.
      const pem = Buffer.from(keyData, 'base64').toString('utf8');
      for (const line of pem.split(/\r?\n/)) if (!line.startsWith('-----')) found.push(line);
    }
    const config = (user['auth-provider'] as { config?: Record<string, unknown> } | undefined)?.config;
    for (const key of ['access-token', 'id-token', 'refresh-token', 'client-secret']) {
      if (typeof config?.[key] === 'string') found.push(config[key]);
    }
  }
  return found;
}

/** Values after `=` in `id=value` lines (build-push's `secrets`). */
function lineValues(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.slice(line.indexOf('=') + 1))
    .filter((value, i, all) => value !== '' && all.indexOf(value) === i);
}

/** Credentials in `Name: value` header lines: credential headers and those named secret. */
function headerSecrets(headers: string, secretNames: string): string[] {
  const named = new Set(
    secretNames
      .split(/[\n,]/)
      .map((n) => n.trim().toLowerCase())
      .filter(Boolean),
  );
  const found: string[] = [];
  for (const line of headers.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at <= 0) continue;
    const name = line.slice(0, at).trim().toLowerCase();
    if (!named.has(name) && !CREDENTIAL_HEADERS.has(name)) continue;
    const value = line.slice(at + 1).trim();
    found.push(value);
    const credential = /^\S+\s+(\S+)$/.exec(value);
    if (credential) found.push(credential[1] as string);
  }
  return found;
}

/** Passwords in URLs (`https://user:password@host`). */
function urlPasswords(text: string): string[] {
  const found: string[] = [];
  // Anchored on `://` (a scheme pattern in front made this quadratic: 46 s on a 100 KB input of letters).
  for (const match of text.matchAll(/:\/\/([^\s/@]*)@/g)) {
    const userinfo = match[1] as string;
    const colon = userinfo.indexOf(':');
    const password = colon < 0 ? '' : userinfo.slice(colon + 1);
    if (password !== '') found.push(decodeURIComponentSafe(password), password);
  }
  return found;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Every secret value a run knows: env and inputs whose names look secret, kubeconfig credentials (the
 * `kubeconfig` input and the KUBECONFIG files), secret header values and URL passwords, and `extra`
 * (e.g. the ECR password) named by the caller.
 */
export function collectSecrets(
  env: Record<string, string | undefined>,
  inputs: Record<string, string>,
  extra: Record<string, string> = {},
): KnownSecret[] {
  const set = new SecretSet();
  for (const [name, value] of Object.entries(extra)) set.add(name, value);
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !SECRET_ENV.test(name) || LOCATION_ENV.test(name)) continue;
    set.add(`env ${name}`, value);
  }
  for (const path of (env.KUBECONFIG ?? '').split(':').filter(Boolean)) {
    if (!existsSync(path)) continue;
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue;
    }
    for (const value of kubeconfigSecrets(text)) set.add('a credential in the KUBECONFIG file', value);
  }
  for (const [name, value] of Object.entries(inputs)) {
    if (!SECRET_INPUT.test(name)) continue;
    set.add(`input "${name}"`, value);
    if (/kubeconfig/i.test(name)) {
      for (const v of kubeconfigSecrets(value)) set.add(`a credential in input "${name}"`, v);
    }
    if (/secrets$/i.test(name)) for (const v of lineValues(value)) set.add(`a value in input "${name}"`, v);
  }
  if (inputs.headers !== undefined) {
    for (const v of headerSecrets(inputs.headers, inputs['secret-headers'] ?? ''))
      set.add('a secret header value in input "headers"', v);
  }
  for (const [name, value] of Object.entries(inputs)) {
    for (const v of urlPasswords(value)) set.add(`a URL password in input "${name}"`, v);
  }
  return set.secrets;
}

/** What a person reading the run sees, by place. */
export interface VisibleOutput {
  log: string;
  summary: string;
  outputs: Record<string, string>;
  annotations: Array<{ title?: string; message: string }>;
}

/** The leaks, as `<source> in <place>` (never the values). */
export function findLeaks(secrets: readonly KnownSecret[], visible: VisibleOutput, phase = ''): string[] {
  const places: Array<[string, string]> = [
    ['log', visible.log],
    ['job summary', visible.summary],
    ['outputs', Object.entries(visible.outputs).flat().join('\n')],
    ['annotations', visible.annotations.map((a) => `${a.title ?? ''}\n${a.message}`).join('\n')],
  ];
  const leaks: string[] = [];
  for (const secret of secrets) {
    for (const [place, text] of places) {
      if (text.includes(secret.value)) leaks.push(`${secret.source} in the ${phase}${place}`);
    }
  }
  return leaks;
}

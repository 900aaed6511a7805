import { ConfigurationError } from '@planner-deploy/core';

/**
 * The `kubeconfig` input holds either the YAML itself or its base64 (the usual `KUBE_CONFIG_DATA` secret).
 * YAML always has a `:`; base64 never does — that decides, and the decoded text must look like a kubeconfig.
 */
export function decodeKubeconfigInput(text: string, inputName = 'kubeconfig'): string {
  const trimmed = text.trim();
  if (trimmed === '')
    throw new ConfigurationError(`Input "${inputName}" is empty.`, { title: `Invalid input: ${inputName}` });
  if (trimmed.includes(':')) return trimmed;
  const compact = trimmed.replace(/\s+/g, '');
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact)) {
    const decoded = Buffer.from(compact, /[-_]/.test(compact) ? 'base64url' : 'base64').toString('utf8');
    if (
      /(^|\n)\s*(apiVersion|clusters|contexts|users|kind)\s*:/.test(decoded) ||
      decoded.trim().startsWith('{')
    ) {
      return decoded;
    }
  }
  // Never echo the value: it is a credential.
  throw new ConfigurationError(
    `Input "${inputName}" is neither a kubeconfig (YAML) nor the base64 of one. Pass the file's content, or \`base64 -w0 ~/.kube/config\`.`,
    { title: `Invalid input: ${inputName}` },
  );
}

/** A kubeconfig user entry, as far as masking and exec detection need it. */
export interface KubeconfigUserSecrets {
  name: string;
  token?: string | null | undefined;
  keyData?: string | null | undefined;
  certData?: string | null | undefined;
  password?: string | null | undefined;
  authProvider?: { name?: string; config?: Record<string, unknown> } | null | undefined;
}

/**
 * Every credential in a user entry: the bearer token, the client key (base64 and its decoded PEM), the
 * password and the auth-provider tokens. Certificates are public and not listed.
 */
export function secretsOfUser(user: KubeconfigUserSecrets): string[] {
  const out: string[] = [];
  const add = (value: unknown): void => {
    if (typeof value === 'string' && value.trim() !== '') out.push(value);
  };
  add(user.token);
  add(user.password);
  if (typeof user.keyData === 'string' && user.keyData !== '') {
    add(user.keyData);
    const pem = Buffer.from(user.keyData, 'base64').toString('utf8');
    if (pem.includes('PRIVATE KEY')) add(pem);
  }
  const config = user.authProvider?.config ?? {};
  for (const key of ['access-token', 'id-token', 'refresh-token', 'client-secret', 'token']) add(config[key]);
  return out;
}

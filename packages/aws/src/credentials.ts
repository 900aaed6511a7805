import type { AwsCredentials } from './eks-token.js';

/** Something that returns (possibly refreshed) AWS credentials. */
export type CredentialsProvider = () => Promise<AwsCredentials & { expiration?: Date | undefined }>;

export interface DefaultCredentialsOptions {
  /**
   * A named profile of ~/.aws/config and ~/.aws/credentials (what AWS_PROFILE names), e.g. from the `env` of a
   * kubeconfig's `aws eks get-token` exec entry. Default: the chain's own choice (AWS_PROFILE, else env keys…).
   */
  profile?: string | undefined;
  /**
   * Where the chain's own notes go (e.g. "both AWS_PROFILE and env keys are set"), instead of console.warn.
   * Only used with `profile`; the first provider made for a profile keeps its sink.
   */
  debug?: ((message: string) => void) | undefined;
}

const cached = new Map<string, CredentialsProvider>();

/**
 * The SDK's default credential chain (env keys, web identity/OIDC, SSO, shared files, container and instance
 * metadata), imported lazily so actions that never touch AWS do not pay for loading it. The returned
 * provider memoises and refreshes credentials by itself. With `profile`, the chain reads that profile, as the
 * aws CLI does with AWS_PROFILE set.
 */
export async function defaultCredentials(
  options: DefaultCredentialsOptions = {},
): Promise<CredentialsProvider> {
  const key = options.profile ?? '';
  const known = cached.get(key);
  if (known) return known;
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  const sink = options.debug ?? (() => undefined);
  const logger = { debug: sink, info: sink, warn: sink, error: sink };
  const provider = defaultProvider(options.profile !== undefined ? { profile: options.profile, logger } : {});
  const wrapped: CredentialsProvider = async () => {
    const identity = await provider();
    return {
      accessKeyId: identity.accessKeyId,
      secretAccessKey: identity.secretAccessKey,
      sessionToken: identity.sessionToken,
      expiration: identity.expiration,
    };
  };
  cached.set(key, wrapped);
  return wrapped;
}

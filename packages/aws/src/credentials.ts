import type { AwsCredentials } from './eks-token.js';

/** Something that returns (possibly refreshed) AWS credentials. */
export type CredentialsProvider = () => Promise<AwsCredentials & { expiration?: Date | undefined }>;

let cached: CredentialsProvider | undefined;

/**
 * The SDK's default credential chain (env keys, web identity/OIDC, SSO, shared files, container and instance
 * metadata), imported lazily so actions that never touch AWS do not pay for loading it. The returned
 * provider memoises and refreshes credentials by itself.
 */
export async function defaultCredentials(): Promise<CredentialsProvider> {
  if (cached) return cached;
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  const provider = defaultProvider();
  cached = async () => {
    const identity = await provider();
    return {
      accessKeyId: identity.accessKeyId,
      secretAccessKey: identity.secretAccessKey,
      sessionToken: identity.sessionToken,
      expiration: identity.expiration,
    };
  };
  return cached;
}

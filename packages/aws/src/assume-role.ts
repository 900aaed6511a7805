import { ConfigurationError, errorMessage } from '@planner-deploy/core';
import type { CredentialsProvider } from './credentials.js';

export interface AssumeRoleOptions {
  /** `arn:aws:iam::<account>:role/<name>`. */
  roleArn: string;
  /** RoleSessionName: what CloudTrail and the cluster's access entry show after `assumed-role/<name>/`. */
  sessionName: string;
  externalId?: string | undefined;
  /** Region of the STS client (the cluster's); the SDK honours AWS_ENDPOINT_URL_STS by itself. */
  region: string;
  /** The credentials that call AssumeRole (the default chain, or a profile's). */
  source: CredentialsProvider;
  /** Called with the temporary secret key and session token before anything can log them. */
  mask?: ((value: string) => void) | undefined;
  /** Clock (tests). */
  now?: () => Date;
}

/** Temporary credentials are renewed this long before they expire (a token signed with them must outlive it). */
const RENEW_BEFORE_MS = 5 * 60_000;

/**
 * Credentials of an IAM role assumed with STS AssumeRole, as `aws eks get-token --role-arn` and
 * `aws-iam-authenticator token -r` do: the source credentials call AssumeRole once, the temporary credentials
 * are kept until five minutes before they expire, then renewed. Errors the user can fix (not allowed to
 * assume the role, a role that does not exist, no source credentials) are ConfigurationErrors naming the role.
 */
export function assumeRoleCredentials(options: AssumeRoleOptions): CredentialsProvider {
  const now = options.now ?? (() => new Date());
  type Held = Awaited<ReturnType<CredentialsProvider>> & { expiration: Date };
  let held: Held | undefined;
  let pending: Promise<Held> | undefined;

  const assume = async (): Promise<Held> => {
    const { STSClient, AssumeRoleCommand } = await import('@aws-sdk/client-sts');
    const client = new STSClient({ region: options.region, credentials: options.source });
    try {
      const result = await client.send(
        new AssumeRoleCommand({
          RoleArn: options.roleArn,
          RoleSessionName: options.sessionName,
          ...(options.externalId !== undefined ? { ExternalId: options.externalId } : {}),
        }),
      );
      const c = result.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
        throw new Error(`STS AssumeRole of ${options.roleArn} returned no credentials`);
      }
      options.mask?.(c.SecretAccessKey);
      options.mask?.(c.SessionToken);
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expiration: c.Expiration,
      };
    } catch (error) {
      throw explainAssumeRoleError(error, options.roleArn);
    } finally {
      client.destroy();
    }
  };

  return async () => {
    if (held && now().getTime() < held.expiration.getTime() - RENEW_BEFORE_MS) return held;
    pending ??= assume()
      .then((fresh) => (held = fresh))
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };
}

function explainAssumeRoleError(error: unknown, roleArn: string): unknown {
  if (error instanceof ConfigurationError) return error;
  const raw = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  const name = typeof raw === 'string' ? raw : '';
  if (name === 'AccessDenied' || name === 'AccessDeniedException') {
    return new ConfigurationError(
      `Not allowed to assume the role ${roleArn}: ${errorMessage(error)}. The deploy identity needs sts:AssumeRole on the role, and the role's trust policy must allow that identity.`,
      { title: 'AssumeRole denied', cause: error },
    );
  }
  if (
    name === 'CredentialsProviderError' ||
    name === 'InvalidClientTokenId' ||
    name === 'ExpiredToken' ||
    name === 'ExpiredTokenException' ||
    name === 'SignatureDoesNotMatch'
  ) {
    return new ConfigurationError(
      `No valid AWS credentials to assume the role ${roleArn}: ${errorMessage(error)}. Configure credentials first (e.g. aws-actions/configure-aws-credentials).`,
      { title: 'AWS credentials', cause: error },
    );
  }
  return error;
}

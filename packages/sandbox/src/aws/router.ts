import type { EcrState } from './ecr.js';
import { EcrError, handleEcrAction } from './ecr.js';
import { eksAction, handleEks, type KubeEndpoint } from './eks.js';
import { header, newRequestId, type WireRequest, type WireResponse } from './http.js';
import { queryError, queryParams, queryResponse } from './query.js';
import { handleRdsAction, RDS_NAMESPACE } from './rds.js';
import { RdsError } from './rds-model.js';
import type { RdsState } from './rds-state.js';
import { parseSigV4, verifySigV4, type AwsCredentials, type SigV4Failure } from './sigv4.js';
import {
  assumeRoleXml,
  callerIdentityXml,
  STS_NAMESPACE,
  type CallerIdentity,
  type RoleSessions,
} from './sts.js';

/** One request served, as the sandbox records it. */
export interface AwsRequestRecord {
  service: 'rds' | 'ecr' | 'eks' | 'sts' | 'unknown';
  action: string;
  status: number;
  /** The error code answered, if any. */
  error?: string;
}

type Service = AwsRequestRecord['service'];

export interface RouterContext {
  region: string;
  accountId: string;
  credentials: AwsCredentials;
  identity: CallerIdentity;
  rds: RdsState;
  ecr: EcrState;
  kube: () => KubeEndpoint | undefined;
  /** IAM actions the identity may not call (`eks:ListFargateProfiles`): AccessDeniedException. */
  denied?: ReadonlySet<string>;
  /** STS AssumeRole's sessions: their temporary credentials sign requests too. */
  sessions?: RoleSessions;
}

export interface Served {
  out: WireResponse;
  record: AwsRequestRecord;
}

const QUERY_AUTH_CODES: Record<SigV4Failure, string> = {
  MissingAuthenticationToken: 'MissingAuthenticationToken',
  IncompleteSignature: 'IncompleteSignature',
  UnknownAccessKey: 'InvalidClientTokenId',
  InvalidSecurityToken: 'InvalidClientTokenId',
  SignatureDoesNotMatch: 'SignatureDoesNotMatch',
  SignatureExpired: 'SignatureDoesNotMatch',
  RequestExpired: 'ExpiredToken',
};

const JSON_AUTH_TYPES: Record<SigV4Failure, string> = {
  MissingAuthenticationToken: 'MissingAuthenticationTokenException',
  IncompleteSignature: 'IncompleteSignatureException',
  UnknownAccessKey: 'UnrecognizedClientException',
  InvalidSecurityToken: 'UnrecognizedClientException',
  SignatureDoesNotMatch: 'InvalidSignatureException',
  SignatureExpired: 'InvalidSignatureException',
  RequestExpired: 'InvalidSignatureException',
};

/** Which service a request is for: the credential scope says, else the request's shape. */
function serviceOf(req: WireRequest, params: () => Map<string, string>): Service {
  const parts = parseSigV4(req);
  if (parts !== undefined && parts !== 'incomplete') {
    const s = parts.service;
    return s === 'rds' || s === 'ecr' || s === 'eks' || s === 'sts' ? s : 'unknown';
  }
  if ((header(req, 'x-amz-target') ?? '').startsWith('AmazonEC2ContainerRegistry_V20150921.')) return 'ecr';
  if (req.path.startsWith('/clusters')) return 'eks';
  const action = params().get('Action');
  if (action === 'GetCallerIdentity') return 'sts';
  if (action !== undefined) return 'rds';
  return 'unknown';
}

/** Tells the services apart, checks the signature and answers in each service's protocol. */
export function createAwsRouter(ctx: RouterContext): (req: WireRequest) => Promise<Served> {
  const { region, accountId, credentials, identity, rds } = ctx;
  const ecrState = ctx.ecr;
  const regions = [region];
  const sessionOf = (req: WireRequest) => {
    const parts = parseSigV4(req);
    return parts && parts !== 'incomplete' ? ctx.sessions?.find(parts.accessKeyId, new Date()) : undefined;
  };
  const authCheck = (req: WireRequest, service: Service) =>
    verifySigV4(req, {
      credentials: sessionOf(req)?.credentials ?? credentials,
      regions: service === 'sts' ? [region, 'us-east-1'] : regions,
      now: new Date(),
      ...(service === 'sts' ? { presignedValidityMs: 15 * 60 * 1000 } : {}),
    });

  const queryAnswer = (
    namespace: string,
    status: number,
    code: string,
    message: string,
    requestId: string,
  ): WireResponse => ({
    status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, date: new Date().toUTCString() },
    body: queryError(namespace, code, message, requestId),
  });

  const jsonAnswer = (
    status: number,
    body: unknown,
    requestId: string,
    errorType?: string,
    contentType = 'application/x-amz-json-1.1',
  ): WireResponse => ({
    status,
    headers: {
      'content-type': contentType,
      'x-amzn-requestid': requestId,
      date: new Date().toUTCString(),
      ...(errorType !== undefined ? { 'x-amzn-errortype': errorType } : {}),
    },
    body: JSON.stringify(errorType !== undefined ? { __type: errorType, ...(body as object) } : body),
  });

  return async function serve(req: WireRequest): Promise<Served> {
    const requestId = newRequestId();
    let paramsCache: Map<string, string> | undefined;
    const params = () => (paramsCache ??= queryParams(req));
    const service = serviceOf(req, params);

    if (service === 'rds' || service === 'sts') {
      const namespace = service === 'rds' ? RDS_NAMESPACE : STS_NAMESPACE;
      const action = params().get('Action') ?? '';
      const fail = (status: number, code: string, message: string) => ({
        out: queryAnswer(namespace, status, code, message, requestId),
        record: { service, action, status, error: code },
      });
      const auth = await authCheck(req, service);
      if (!auth.ok) return fail(403, QUERY_AUTH_CODES[auth.failure], auth.message);
      if (service === 'sts' && action === 'AssumeRole' && ctx.sessions) {
        const caller = sessionOf(req)?.arn ?? identity.arn;
        const session = ctx.sessions.assume(
          params().get('RoleArn') ?? '',
          params().get('RoleSessionName') ?? '',
          caller,
          new Date(),
        );
        if (!('credentials' in session)) return fail(session.status, session.code, session.message);
        const body = queryResponse('AssumeRole', STS_NAMESPACE, assumeRoleXml(session), requestId);
        return {
          out: { status: 200, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body },
          record: { service, action, status: 200 },
        };
      }
      if (service === 'sts') {
        if (action !== 'GetCallerIdentity')
          return fail(400, 'InvalidAction', `Could not find operation ${action} for version 2011-06-15`);
        const assumed = sessionOf(req);
        const body = queryResponse(
          'GetCallerIdentity',
          STS_NAMESPACE,
          callerIdentityXml(assumed ? { ...identity, arn: assumed.arn } : identity),
          requestId,
        );
        return {
          out: { status: 200, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body },
          record: { service, action, status: 200 },
        };
      }
      if (rds.shouldThrottle()) return fail(400, 'Throttling', 'Rate exceeded');
      if (rds.shouldFailInternally()) {
        return {
          out: {
            status: 500,
            headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
            body: queryError(
              namespace,
              'InternalFailure',
              'An internal error has occurred.',
              requestId,
              'Receiver',
            ),
          },
          record: { service, action, status: 500, error: 'InternalFailure' },
        };
      }
      try {
        const result = handleRdsAction(rds, action, params());
        const body = queryResponse(action, RDS_NAMESPACE, result, requestId);
        return {
          out: { status: 200, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, body },
          record: { service, action, status: 200 },
        };
      } catch (err) {
        if (err instanceof RdsError) return fail(err.status, err.code, err.message);
        throw err;
      }
    }

    if (service === 'ecr') {
      const target = header(req, 'x-amz-target') ?? '';
      const action = target.startsWith('AmazonEC2ContainerRegistry_V20150921.')
        ? target.slice(target.indexOf('.') + 1)
        : '';
      const fail = (status: number, type: string, message: string) => ({
        out: jsonAnswer(status, { message }, requestId, type),
        record: { service, action, status, error: type },
      });
      const auth = await authCheck(req, service);
      if (!auth.ok) return fail(400, JSON_AUTH_TYPES[auth.failure], auth.message);
      if (ecrState.shouldThrottle()) return fail(400, 'ThrottlingException', 'Rate exceeded');
      let input: unknown;
      try {
        input = req.body.length > 0 ? JSON.parse(req.body.toString('utf8')) : {};
      } catch {
        return fail(400, 'SerializationException', 'Request body is not valid JSON');
      }
      try {
        const result = await handleEcrAction(ecrState, action, input);
        return { out: jsonAnswer(200, result, requestId), record: { service, action, status: 200 } };
      } catch (err) {
        if (err instanceof EcrError) return fail(err.status, err.type, err.message);
        return fail(500, 'ServerException', err instanceof Error ? err.message : String(err));
      }
    }

    if (service === 'eks') {
      const action = eksAction(req.method, req.path);
      const auth = await authCheck(req, service);
      if (!auth.ok) {
        const type = JSON_AUTH_TYPES[auth.failure];
        return {
          out: jsonAnswer(403, { message: auth.message }, requestId, type, 'application/json'),
          record: { service, action, status: 403, error: type },
        };
      }
      if (ctx.denied?.has(`eks:${action}`)) {
        const cluster = ctx.kube()?.clusterName ?? 'planner-production-cluster';
        const message = `User: ${identity.arn} is not authorized to perform: eks:${action} on resource: arn:aws:eks:${region}:${accountId}:cluster/${cluster}`;
        return {
          out: jsonAnswer(403, { message }, requestId, 'AccessDeniedException', 'application/json'),
          record: { service, action, status: 403, error: 'AccessDeniedException' },
        };
      }
      const answer = handleEks(req.method, req.path, ctx.kube(), region, accountId, req.query);
      return {
        out: jsonAnswer(answer.status, answer.body, requestId, answer.errorType, 'application/json'),
        record: {
          service,
          action,
          status: answer.status,
          ...(answer.errorType !== undefined ? { error: answer.errorType } : {}),
        },
      };
    }

    return {
      out: jsonAnswer(
        400,
        { message: 'The sandbox serves rds, ecr, eks and sts only.' },
        requestId,
        'UnknownServiceException',
        'application/json',
      ),
      record: {
        service: 'unknown',
        action: `${req.method} ${req.path}`,
        status: 400,
        error: 'UnknownServiceException',
      },
    };
  };
}

// awsServiceFailure: an AWS service's error answer is reported as the service's verdict, never as our bug,
// with the service's text quoted. The shape is the SDK's ServiceException (the rds-backup hostile test drives the
// real SDK over HTTP).
import { describe, expect, it } from '@jest/globals';
import { ActionFailure, awsServiceFailure } from '../src/index.js';

function serviceError(
  name: string,
  message: string,
  fault: 'client' | 'server',
  status: number,
  requestId?: string,
): Error {
  const error = new Error(message);
  error.name = name;
  return Object.assign(error, { $fault: fault, $metadata: { httpStatusCode: status, requestId } });
}

describe('awsServiceFailure', () => {
  it('names the code, the status and the request id of a refused request', () => {
    const failure = awsServiceFailure(
      serviceError('InvalidParameterValue', 'The parameter is not valid.', 'client', 400, 'req-1'),
    );
    expect(failure).toBeInstanceOf(ActionFailure);
    expect(failure?.title).toBe('AWS InvalidParameterValue');
    expect(failure?.message).toBe(
      'The AWS service refused the request: InvalidParameterValue (HTTP 400, request id req-1): The parameter is not valid.',
    );
  });

  it('says a server fault outlived the retries', () => {
    const failure = awsServiceFailure(serviceError('InternalFailure', 'boom', 'server', 500));
    expect(failure?.message).toMatch(
      /^The AWS service failed \(retries exhausted\); re-run .*\(HTTP 500\): boom$/,
    );
  });

  it('quotes the service text: no line of it can start a runner command', () => {
    const failure = awsServiceFailure(
      serviceError('Bad\n::error::x', 'first\n::add-mask::secret\r##[error]forged', 'client', 400),
    );
    expect(failure?.message).not.toMatch(/[\r\n]/);
    expect(failure?.message).not.toContain('##[');
    expect(failure?.message).toContain('\\n');
  });

  it('is undefined for anything that is not a service answer', () => {
    expect(awsServiceFailure(new Error('plain'))).toBeUndefined();
    expect(
      awsServiceFailure(Object.assign(new Error('x'), { $metadata: {}, $fault: 'client' })),
    ).toBeUndefined();
    expect(awsServiceFailure({ $metadata: { httpStatusCode: 400 }, $fault: 'client' })).toBeUndefined();
    expect(awsServiceFailure('text')).toBeUndefined();
  });
});

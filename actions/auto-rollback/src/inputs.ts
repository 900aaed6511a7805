import {
  getBoolean,
  getDuration,
  getList,
  getOptionalString,
  invalidInput,
  parseInteger,
} from '@planner-deploy/action-kit';
import { checkDeploymentNames, type ConnectionInputs } from '@planner-deploy/kube';
import { readConnectionInputs, readNamespace } from '@planner-deploy/kube-inputs';

export interface Inputs {
  connection: ConnectionInputs;
  namespace: string | undefined;
  deployments: string[];
  /** Per deployment: the revision to go back to (0 = previous). */
  'to-revision': Map<string, number>;
  reason: string | undefined;
  'snapshot-identifier': string | undefined;
  force: boolean;
  wait: boolean;
  timeout: number;
  'ready-grace': number;
}

const REVISION_RULE =
  'expected a revision number, or a JSON object {"deployment": number} as the rollout step outputs it.';

/** `3`, or `{"web":3,"worker":5}` (rollout's output for several deployments). */
export function parseToRevision(text: string | undefined, deployments: string[]): Map<string, number> {
  const result = new Map<string, number>(deployments.map((d) => [d, 0]));
  if (text === undefined) return result;
  if (/^\d+$/.test(text)) {
    const revision = parseInteger('to-revision', text, { min: 0 });
    if (deployments.length > 1) {
      throw invalidInput(
        'to-revision',
        text,
        `one number is ambiguous for ${deployments.length} deployments: ${REVISION_RULE}`,
      );
    }
    result.set(deployments[0] as string, revision);
    return result;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalidInput('to-revision', text, REVISION_RULE);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw invalidInput('to-revision', text, REVISION_RULE);
  for (const [name, value] of Object.entries(parsed)) {
    if (!result.has(name))
      throw invalidInput('to-revision', text, `it names "${name}", which is not in deployments.`);
    if (!Number.isSafeInteger(value) || (value as number) < 0)
      throw invalidInput('to-revision', text, REVISION_RULE);
    result.set(name, value as number);
  }
  return result;
}

export function readInputs(): Inputs {
  const connection = readConnectionInputs();
  const namespace = readNamespace();
  const deployments = checkDeploymentNames('deployments', getList('deployments'));
  const snapshot = getOptionalString('snapshot-identifier');
  if (snapshot !== undefined && !/^[A-Za-z][A-Za-z0-9-]{0,254}$/.test(snapshot)) {
    throw invalidInput(
      'snapshot-identifier',
      snapshot,
      'expected an RDS snapshot identifier: a letter, then letters, digits and hyphens.',
    );
  }
  return {
    connection,
    namespace,
    deployments,
    'to-revision': parseToRevision(getOptionalString('to-revision'), deployments),
    reason: getOptionalString('reason'),
    'snapshot-identifier': snapshot,
    force: getBoolean('force', false),
    wait: getBoolean('wait', true),
    timeout: getDuration('timeout', 300_000, { minMs: 1000, maxMs: 6 * 3_600_000 }),
    'ready-grace': getDuration('ready-grace', 120_000, { minMs: 0, maxMs: 3_600_000 }),
  };
}

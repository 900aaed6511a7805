/** The release body: the `body` input, then the generated notes, then the Deployment section. */

/** GitHub refuses a release body longer than this. */
export const BODY_LIMIT = 125_000;

export interface DeploymentDetails {
  environment: string | undefined;
  'environment-url': string | undefined;
  image: string | undefined;
  'snapshot-identifier': string | undefined;
}

export interface RunLink {
  serverUrl: string;
  repository: string;
  runId: string | undefined;
  runAttempt: string | undefined;
  workflow: string | undefined;
}

export interface BodyParts {
  body: string | undefined;
  notes: string | undefined;
  deployment: DeploymentDetails;
  run: RunLink;
}

/** The workflow run's page, when the run id is known. */
export function runUrl(run: RunLink): string | undefined {
  if (run.runId === undefined || run.runId === '') return undefined;
  return `${run.serverUrl.replace(/\/+$/, '')}/${run.repository}/actions/runs/${run.runId}`;
}

/** Escapes text for a Markdown table cell or link text. */
function text(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/[|[\]<>*_`]/g, (c) => `\\${c}`);
}

export function hasDeploymentDetails(details: DeploymentDetails): boolean {
  return Object.values(details).some((value) => value !== undefined);
}

/** The "Deployment" section; empty when no deployment detail was given. */
export function deploymentSection(details: DeploymentDetails, run: RunLink): string {
  if (!hasDeploymentDetails(details)) return '';
  const rows: Array<[string, string]> = [];
  const environment = details.environment;
  const url = details['environment-url'];
  if (environment !== undefined || url !== undefined) {
    const label = text(environment ?? url ?? '');
    rows.push(['Environment', url === undefined ? label : `[${label}](${url.replace(/\)/g, '%29')})`]);
  }
  if (details.image !== undefined) rows.push(['Image', `\`${details.image}\``]);
  if (details['snapshot-identifier'] !== undefined) {
    rows.push(['Database snapshot', `\`${details['snapshot-identifier']}\``]);
  }
  const link = runUrl(run);
  if (link !== undefined) {
    const label = text(run.workflow ?? 'Workflow run');
    const attempt =
      run.runAttempt !== undefined && run.runAttempt !== '1' ? ` (attempt ${run.runAttempt})` : '';
    rows.push(['Workflow run', `[${label} #${run.runId}](${link})${attempt}`]);
  }
  return ['## Deployment', '', '| | |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join(
    '\n',
  );
}

const CUT_NOTICE = '\n\n_The generated notes were cut here to fit GitHub’s limit on a release body._';

/**
 * Joins the parts with blank lines. The generated notes are the only part that can grow without bound, so
 * they are cut (saying so) when the whole would pass GitHub's limit; the inputs are bounded by validation.
 */
export function composeBody(parts: BodyParts, limit = BODY_LIMIT): string {
  const head = parts.body?.trim();
  const tail = deploymentSection(parts.deployment, parts.run);
  const fixed = [head, tail].filter((p) => p !== undefined && p !== '').join('\n\n');
  let notes = parts.notes?.trim();
  if (notes !== undefined && notes !== '') {
    const budget = limit - fixed.length - 4;
    if (notes.length > budget) notes = notes.slice(0, Math.max(0, budget - CUT_NOTICE.length)) + CUT_NOTICE;
  }
  return [head, notes, tail].filter((p) => p !== undefined && p !== '').join('\n\n');
}

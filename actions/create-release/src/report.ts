import { errorMessage, SummaryBuilder, type Cell } from '@planner-deploy/action-kit';
import { hasDeploymentDetails, runUrl } from './body.js';
import type { Inputs } from './inputs.js';
import type { NotesBase, Outcome } from './run.js';

/** The action's outputs (names as in action.yml). */
export function toOutputs(outcome: Outcome): Record<string, string | undefined> {
  if (!outcome.done) return { created: 'false' };
  return {
    id: String(outcome.id),
    url: outcome.url,
    'upload-url': outcome.uploadUrl,
    created: String(outcome.created),
    tag: outcome.tag,
    'previous-tag': outcome.notes.kind === 'tag' ? outcome.notes.tag : '',
  };
}

function notesText(notes: NotesBase, tag: string): string {
  switch (notes.kind) {
    case 'tag':
      return `generated: ${notes.tag}...${tag} (${notes.chosen === 'input' ? 'input "previous-tag"' : 'previous version of the same family'})`;
    case 'github-default':
      return 'generated: base chosen by GitHub (no earlier version of this family)';
    case 'not-generated':
      return 'not generated (generate-notes: false)';
  }
}

export function buildSummary(inputs: Inputs, outcome: Outcome): SummaryBuilder {
  const summary = new SummaryBuilder();
  if (!outcome.done) {
    summary.heading('Release: nothing to do').paragraph(outcome.reason);
    return summary;
  }
  const verb = outcome.created ? 'created' : 'updated';
  summary.heading(`Release ${outcome.tag} ${verb}`);
  const prerelease = `${outcome.prerelease}${inputs.context.prereleaseInferred ? ' (inferred from the tag)' : ''}`;
  const rows: Cell[][] = [
    ['Release', `[${outcome.name}](${outcome.url})`],
    ['Tag', outcome.tag],
    ['Result', outcome.created ? 'created' : 'updated (it already existed)'],
    ['Release notes', notesText(outcome.notes, outcome.tag)],
    ['Prerelease', prerelease],
    ['Draft', outcome.draft],
    ['Make latest', `${outcome.makeLatest} (${outcome.latestWhy})`],
  ];
  summary.table(['Item', 'Value'], rows);
  if (hasDeploymentDetails(inputs)) {
    const link = runUrl(inputs.context.run);
    summary.heading('Deployment', 3).table(
      ['Item', 'Value'],
      [
        ['Environment', inputs.environment],
        ['Environment URL', inputs['environment-url']],
        ['Image', inputs.image],
        ['Database snapshot', inputs['snapshot-identifier']],
        ['Workflow run', link],
      ],
    );
  }
  return summary;
}

/** The summary of a run that failed after its inputs were read: what was attempted and why it failed. */
export function buildFailureSummary(inputs: Inputs, error: unknown): SummaryBuilder {
  const title = error instanceof Error && 'title' in error ? String(error.title) : 'Failed';
  return new SummaryBuilder()
    .heading(`Release ${inputs.tag ?? ''} failed: ${title}`)
    .paragraph(errorMessage(error))
    .paragraph('Re-running the job is safe: the release of the tag is updated, never duplicated.');
}

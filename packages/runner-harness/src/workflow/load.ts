/**
 * Reading a workflow file with GitHub's own parser (@actions/workflow-parser): the schema check, then the
 * converted model (events, jobs, steps with their `if:` already wrapped in `success() && (…)`). The model
 * leaves out what only the runner reads (a step's `with:`, `shell:`, `working-directory:`, a reusable
 * workflow's `outputs:`), so those are read from the parsed template tokens beside it.
 */
import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import {
  convertWorkflowTemplate,
  isMapping,
  isSequence,
  isString,
  NoOperationTraceWriter,
  parseWorkflow,
  type WorkflowTemplate,
} from '@actions/workflow-parser';
import type { MappingToken } from '@actions/workflow-parser/templates/tokens/mapping-token';
import type { TemplateToken } from '@actions/workflow-parser/templates/tokens/template-token';

/** A workflow file that GitHub would refuse, with every reason the parser gave. */
export class WorkflowFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file} is not a valid workflow:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export interface LoadedWorkflow {
  /** The path as given (for messages). */
  file: string;
  /** `name:`, or the file's path as GitHub shows it. */
  name: string;
  template: WorkflowTemplate;
  /** The file's root mapping, for the keys the model leaves out. */
  root: MappingToken;
}

/** Parses and converts one workflow file; a file GitHub would reject throws WorkflowFileError. */
export async function loadWorkflow(file: string, displayRoot = process.cwd()): Promise<LoadedWorkflow> {
  const shown = relative(displayRoot, file) || file;
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (e) {
    throw new WorkflowFileError(shown, [(e as Error).message]);
  }
  const parsed = parseWorkflow({ name: shown, content }, new NoOperationTraceWriter());
  const problems = parsed.context.errors.getErrors().map((e) => e.message);
  if (problems.length > 0 || parsed.value === undefined) throw new WorkflowFileError(shown, problems);
  const template = await convertWorkflowTemplate(parsed.context, parsed.value);
  const converted = [
    ...parsed.context.errors.getErrors().map((e) => e.message),
    ...(template.errors ?? []).map((e) => e.Message),
  ];
  if (converted.length > 0) throw new WorkflowFileError(shown, converted);
  const root = parsed.value.assertMapping('workflow root');
  const nameToken = root.find('name');
  const name = nameToken && isString(nameToken) ? nameToken.value : shown;
  return { file: shown, name, template, root };
}

/** `root[key1][key2]…` through mappings (and sequence indexes given as numbers). */
export function tokenAt(
  token: TemplateToken | undefined,
  ...path: Array<string | number>
): TemplateToken | undefined {
  let at = token;
  for (const key of path) {
    if (at === undefined) return undefined;
    if (typeof key === 'number') at = isSequence(at) && key < at.count ? at.get(key) : undefined;
    else at = isMapping(at) ? at.find(key) : undefined;
  }
  return at;
}

/** The raw mapping of a job's step, by index (the model's steps are in the file's order). */
export function rawStep(workflow: LoadedWorkflow, jobId: string, index: number): MappingToken | undefined {
  const step = tokenAt(workflow.root, 'jobs', jobId, 'steps', index);
  return step && isMapping(step) ? step : undefined;
}

/**
 * `${{ … }}` through GitHub's own expression engine (@actions/expressions): lexer, parser and evaluator,
 * with the runner's status functions (success, failure, always, cancelled) and hashFiles() supplied as extension
 * functions, and the workflow parser's template tokens turned into plain values.
 */
import { createHash } from 'node:crypto';
import { globSync, readFileSync, statSync } from 'node:fs';
import { matchesGlob, relative, resolve, sep } from 'node:path';
import { Evaluator, Lexer, Parser, data } from '@actions/expressions';
import type { FunctionDefinition } from '@actions/expressions/funcs/info';
import { TokenType } from '@actions/expressions/lexer';
import { truthy } from '@actions/expressions/result';
import {
  isBasicExpression,
  isBoolean,
  isMapping,
  isNumber,
  isSequence,
  isString,
} from '@actions/workflow-parser';
import type { TemplateToken } from '@actions/workflow-parser/templates/tokens/template-token';

/** A context value as JSON: what `toJSON(github)` would print. */
export type Value = null | boolean | number | string | Value[] | { [key: string]: Value };
export type Contexts = Record<string, Value>;

/** What the status functions answer at the point an `if:` is evaluated. */
export interface Status {
  /** success() — no earlier step failed (job level: every needed job succeeded). */
  success: boolean;
  /** failure() — an earlier step failed (job level: a needed job failed). */
  failure: boolean;
  cancelled: boolean;
}

const RUNNING: Status = { success: true, failure: false, cancelled: false };

function statusFunctions(status: Status): Map<string, FunctionDefinition> {
  const fn = (name: string, answer: () => boolean): [string, FunctionDefinition] => [
    name,
    { name, minArgs: 0, maxArgs: 0, call: () => new data.BooleanData(answer()) },
  ];
  return new Map([
    fn('success', () => status.success && !status.cancelled),
    fn('failure', () => status.failure),
    fn('always', () => true),
    fn('cancelled', () => status.cancelled),
  ]);
}

/**
 * hashFiles(pattern, …) as the runner computes it: the files under the workspace matching the patterns (a
 * leading `!` excludes), each hashed with SHA-256, and the hashes of all of them, in path order, hashed again;
 * '' when nothing matches. The engine ships no implementation (it needs the runner's file system), so this is
 * ours; Node's own glob does the matching.
 */
function hashFilesFunction(workspace: string | undefined): FunctionDefinition {
  return {
    name: 'hashFiles',
    minArgs: 1,
    maxArgs: 255,
    call: (...args) => {
      if (!workspace) throw new Error('hashFiles() needs the workspace (github.workspace is not set here)');
      const patterns = args.map((a) => a.coerceString());
      const include = patterns.filter((p) => !p.startsWith('!'));
      const exclude = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
      const files = new Set<string>();
      for (const pattern of include)
        for (const match of globSync(pattern, { cwd: workspace })) {
          const path = resolve(workspace, match);
          const rel = relative(workspace, path);
          // Files only, inside the workspace, not excluded.
          if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`)) continue;
          if (exclude.some((x) => matchesGlob(rel, x))) continue;
          if (statSync(path).isFile()) files.add(path);
        }
      if (files.size === 0) return new data.StringData('');
      const all = createHash('sha256');
      for (const file of [...files].sort())
        all.update(createHash('sha256').update(readFileSync(file)).digest());
      return new data.StringData(all.digest('hex'));
    },
  };
}

/** An expression the engine rejects, or one that reads a context it does not know. */
export class ExpressionError extends Error {}

/** Evaluates one expression (without `${{ }}`) against the contexts. */
export function evaluateExpression(expression: string, contexts: Contexts, status: Status = RUNNING): Value {
  const functions = statusFunctions(status);
  const github = contexts['github'];
  const workspace =
    github && typeof github === 'object' && !Array.isArray(github) && typeof github['workspace'] === 'string'
      ? github['workspace']
      : undefined;
  // The evaluator looks extension functions up by their lower-cased name.
  functions.set('hashfiles', hashFilesFunction(workspace));
  try {
    const tokens = new Lexer(expression).lex().tokens;
    // @actions/expressions 0.3.61 unescapes only the first '' of a string literal (String.replace with a
    // string pattern); the runner unescapes every one, so literals are taken again from their lexeme.
    for (const token of tokens)
      if (token.type === TokenType.STRING && token.lexeme.length >= 2)
        token.value = token.lexeme.slice(1, -1).replaceAll("''", "'");
    const ast = new Parser(tokens, Object.keys(contexts), [...functions.values()]).parse();
    const context = JSON.parse(JSON.stringify(contexts), data.reviver) as data.Dictionary;
    const result = new Evaluator(ast, context, functions).evaluate();
    return JSON.parse(JSON.stringify(result, data.replacer) ?? 'null') as Value;
  } catch (e) {
    throw new ExpressionError(`\${{ ${expression} }}: ${(e as Error).message}`);
  }
}

/** An `if:` condition (the parser has already wrapped it in `success() && (…)` when it names no status). */
export function evaluateCondition(expression: string, contexts: Contexts, status: Status): boolean {
  const value = evaluateExpression(expression, contexts, status);
  return truthy(JSON.parse(JSON.stringify(value), data.reviver) as data.ExpressionData);
}

/** A template token (a `with:` value, `env:`, `outputs:`, a job's `environment:` …) as a plain value. */
export function evaluateToken(token: TemplateToken, contexts: Contexts, status: Status = RUNNING): Value {
  if (isBasicExpression(token)) return evaluateExpression(token.expression, contexts, status);
  if (isString(token)) return token.value;
  if (isBoolean(token)) return token.value;
  if (isNumber(token)) return token.value;
  if (isSequence(token)) {
    const list: Value[] = [];
    for (let i = 0; i < token.count; i++) list.push(evaluateToken(token.get(i), contexts, status));
    return list;
  }
  if (isMapping(token)) {
    const object: Record<string, Value> = {};
    for (const pair of token) {
      object[asText(evaluateToken(pair.key, contexts, status))] = evaluateToken(pair.value, contexts, status);
    }
    return object;
  }
  return null;
}

/** A value as the runner passes it to a step (`with:`, `env:`): strings, `true`/`false`, numbers. */
export function asText(value: Value): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  return JSON.stringify(value, null, 2);
}

/** A mapping token (`with:`, `env:`, `outputs:`) as name → text. */
export function evaluateMapping(
  token: TemplateToken | undefined,
  contexts: Contexts,
  status: Status = RUNNING,
): Record<string, string> {
  if (token === undefined) return {};
  const value = evaluateToken(token, contexts, status);
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ExpressionError(`expected a mapping, got ${JSON.stringify(value)}`);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asText(v)]));
}

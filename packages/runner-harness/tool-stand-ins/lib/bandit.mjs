// The `bandit` shim (tool-stand-ins/README.md). A real bandit that has the output format asked for runs
// unchanged. One without a SARIF formatter (Debian 12's 1.6.2; bandit has it from 1.7.8 with the `sarif` extra)
// runs with `-f json`, and the shim writes SARIF 2.1.0 from its results itself — said in a warning; `-o`, `-r`,
// `-x` and the rest pass through. `--exit-zero` passes through too, or, where the real one lacks it (1.6.2 does),
// the shim takes bandit's "issues found" status 1 as 0, said likewise. No bandit at all: a warning and a report
// saying no scan ran (a SARIF with no results, as the Trivy stand-in writes).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { capture, escapeData, findReal, standInWarning } from './common.mjs';

const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

/** bandit's options that take a value (so their value is not taken for a target). */
const VALUED = new Set([
  '-a',
  '--aggregate',
  '-n',
  '--number',
  '-c',
  '--configfile',
  '-p',
  '--profile',
  '-t',
  '--tests',
  '-s',
  '--skip',
  '--severity-level',
  '--confidence-level',
  '-f',
  '--format',
  '--msg-template',
  '-o',
  '--output',
  '-x',
  '--exclude',
  '-b',
  '--baseline',
  '--ini',
]);

/** The format and output asked for, and the arguments with both taken out (to run bandit with its own). */
export function parseBanditArgs(args) {
  let format = 'screen';
  let output;
  let exitZero = false;
  const rest = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i] ?? '';
    const eq = word.startsWith('--') ? word.indexOf('=') : -1;
    const name = eq < 0 ? word : word.slice(0, eq);
    const takesValue = VALUED.has(name);
    const value = eq >= 0 ? word.slice(eq + 1) : takesValue ? args[i + 1] : undefined;
    if (takesValue && eq < 0) i++;
    if (name === '-f' || name === '--format') format = value ?? '';
    else if (name === '-o' || name === '--output') output = value;
    else {
      if (name === '--exit-zero') exitZero = true;
      rest.push(word);
      if (takesValue && eq < 0 && value !== undefined) rest.push(value);
    }
  }
  return { format, output, exitZero, rest };
}

/** The formatters a bandit offers, from its help text (`-f {csv,custom,html,json,…}`). */
export function formattersOf(helpText) {
  const match = /-f \{([^}]*)\}/.exec(helpText) ?? /--format \{([^}]*)\}/.exec(helpText);
  return match ? (match[1] ?? '').split(',').map((f) => f.trim()) : [];
}

const LEVEL = { HIGH: 'error', MEDIUM: 'warning', LOW: 'note' };

/** A SARIF artifact URI for a file bandit reported: relative to the working directory, with forward slashes. */
function uriOf(filename, cwd) {
  const absolute = resolve(cwd, filename);
  const rel = relative(cwd, absolute);
  const path = rel.startsWith('..') ? absolute : rel;
  return path.split(sep).map(encodeURIComponent).join('/');
}

/**
 * SARIF 2.1.0 from bandit's JSON report: a result per issue (ruleId the test id, level from its severity, its
 * file and line), a rule per test that found something, and bandit's errors as notifications.
 */
export function sarifFromBanditJson(report, { version = '', cwd = process.cwd(), note } = {}) {
  const issues = Array.isArray(report?.results) ? report.results : [];
  const rules = new Map();
  const results = issues.map((issue) => {
    const ruleId = String(issue.test_id ?? 'B000');
    if (!rules.has(ruleId))
      rules.set(ruleId, {
        id: ruleId,
        name: String(issue.test_name ?? ruleId),
        ...(issue.more_info ? { helpUri: String(issue.more_info) } : {}),
      });
    const severity = String(issue.issue_severity ?? '').toUpperCase();
    const startLine = Number(issue.line_number) >= 1 ? Number(issue.line_number) : 1;
    const region = { startLine };
    if (Array.isArray(issue.line_range) && issue.line_range.length > 1)
      region.endLine = Math.max(
        startLine,
        Number(issue.line_range[issue.line_range.length - 1]) || startLine,
      );
    if (typeof issue.col_offset === 'number') region.startColumn = issue.col_offset + 1;
    return {
      ruleId,
      level: LEVEL[severity] ?? 'warning',
      message: { text: String(issue.issue_text ?? ruleId) },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: uriOf(String(issue.filename ?? ''), cwd) },
            region,
          },
        },
      ],
      properties: {
        issue_severity: severity,
        issue_confidence: String(issue.issue_confidence ?? '').toUpperCase(),
      },
    };
  });
  const errors = Array.isArray(report?.errors) ? report.errors : [];
  const notifications = errors.map((e) => ({
    level: 'error',
    message: { text: `${e.filename ?? ''}: ${e.reason ?? ''}` },
  }));
  if (note) notifications.unshift({ level: 'warning', message: { text: note } });
  return {
    version: '2.1.0',
    $schema: SARIF_SCHEMA,
    runs: [
      {
        tool: {
          driver: {
            name: 'Bandit',
            ...(version ? { version } : {}),
            informationUri: 'https://github.com/PyCQA/bandit',
            rules: [...rules.values()],
          },
        },
        invocations: [{ executionSuccessful: true, toolExecutionNotifications: notifications }],
        results,
      },
    ],
  };
}

/** The report when no bandit ran: SARIF with no results that says so, JSON with the reason, or the text. */
export function notRunReport(format, reason) {
  if (format === 'sarif') {
    const sarif = sarifFromBanditJson({ results: [] }, { note: reason });
    sarif.runs[0].tool.driver.name = 'Bandit (pnpm workflow stand-in: not run)';
    sarif.runs[0].invocations[0].executionSuccessful = false;
    return `${JSON.stringify(sarif, null, 2)}\n`;
  }
  if (format === 'json')
    return `${JSON.stringify({ errors: [{ filename: '', reason }], results: [] }, null, 2)}\n`;
  return `${reason}\n`;
}

function write(output, text) {
  if (output === undefined || output === '-') process.stdout.write(text);
  else writeFileSync(output, text);
}

/** The shim. Returns the exit status. */
export function main(args) {
  const asked = parseBanditArgs(args);
  const real = findReal('bandit');
  if (!real) {
    const reason = 'No security scan ran: bandit is not installed here (Debian: apt-get install bandit)';
    console.log(standInWarning(`${reason}; wrote a ${asked.format} report with no results`));
    write(asked.output, notRunReport(asked.format, reason));
    return 0;
  }
  const help = capture(real, ['--help']);
  const helpText = `${help.stdout}${help.stderr}`;
  const sarif = asked.format === 'sarif' && !formattersOf(helpText).includes('sarif');
  const exitZero = asked.exitZero && !helpText.includes('--exit-zero');
  if (!sarif && !exitZero) return capture(real, args, { echo: true }).status;

  const version = /bandit\s+(\d[\w.]*)/.exec(capture(real, ['--version']).stdout)?.[1] ?? '';
  const missing = [sarif ? 'no sarif formatter' : '', exitZero ? 'no --exit-zero' : ''].filter(Boolean);
  const rest = exitZero ? asked.rest.filter((a) => a !== '--exit-zero') : asked.rest;
  // bandit exits 1 when it found issues; --exit-zero asks for 0 then (its errors stay non-zero).
  const status = (s) => (exitZero && s === 1 ? 0 : s);
  if (!sarif) {
    console.log(
      standInWarning(
        `bandit ${version} here has ${missing.join(' and ')}: ran it without, exit 1 (issues found) taken as 0`,
      ),
    );
    return status(capture(real, rest, { echo: true }).status);
  }
  const work = mkdtempSync(join(tmpdir(), 'bandit-shim-'));
  try {
    const jsonFile = join(work, 'report.json');
    const run = capture(real, [...rest, '-f', 'json', '-o', jsonFile], { echo: true });
    let report;
    try {
      report = JSON.parse(readFileSync(jsonFile, 'utf8'));
    } catch {
      // bandit failed before it wrote a report (a bad option, a missing target): its own error stands.
      console.log(
        `::error::${escapeData(`bandit ${version} failed and wrote no report (exit ${run.status})`)}`,
      );
      return run.status === 0 ? 1 : run.status;
    }
    console.log(
      standInWarning(
        `bandit ${version} here has ${missing.join(' and ')} (bandit[sarif] ≥ 1.7.8 has); ran it with -f json and ` +
          `wrote SARIF 2.1.0 from its ${report.results?.length ?? 0} result(s) to ${asked.output ?? 'stdout'}` +
          (exitZero ? '; exit 1 (issues found) taken as 0 for --exit-zero' : ''),
      ),
    );
    write(asked.output, `${JSON.stringify(sarifFromBanditJson(report, { version }), null, 2)}\n`);
    return status(run.status);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

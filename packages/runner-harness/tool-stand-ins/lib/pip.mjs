// The `pip` / `pip3` shim (tool-stand-ins/README.md): the real pip runs, unchanged. Only when it fails because
// it may not install here — no package index reachable, the pinned release not on the index, no pip, or a Python
// that forbids it (PEP 668) — are the requirements checked against what the machine's Pythons already have. All
// installed: a `::warning::stand-in:` naming each installed version against the one wanted, and success. Any
// missing: pip's failure stands, with a line naming what to install. A real error (a bad requirements file, a
// conflict the index could resolve against) stays pip's failure.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { capture, escapeData, findReal, realPath, standInWarning } from './common.mjs';

/** PEP 503's normalised project name (what the index and importlib.metadata compare). */
export function normalise(name) {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

const NAME = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[([^\]]*)\])?\s*(.*)$/s;

/**
 * One PEP 508 requirement: `name[extra,…] specifier ; marker` (or `name @ url`). By hand rather than a Python
 * library because the shim must work on a machine whose pip is missing; only the parts the check needs are kept.
 */
export function parseRequirement(text, where = 'argument') {
  const source = text.trim();
  const match = NAME.exec(source);
  if (!match) throw new Error(`${where}: "${source}" is not a requirement (name[extras] specifier)`);
  const [, name = '', extras = '', rest = ''] = match;
  const [versionPart = '', ...markerParts] = rest.split(';');
  const url = versionPart.trim().startsWith('@');
  const specifier = url ? '' : versionPart.replace(/[\s()]/g, '');
  if (specifier !== '' && !/^(?:(?:===|==|!=|~=|<=|>=|<|>)[A-Za-z0-9.*+!_-]+,?)+$/.test(specifier))
    throw new Error(`${where}: "${source}" has a version specifier pip would refuse ("${specifier}")`);
  return {
    text: source,
    name,
    key: normalise(name),
    extras: extras
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean),
    specifier: specifier.replace(/,$/, ''),
    ...(url ? { url: versionPart.trim().slice(1).trim() } : {}),
    ...(markerParts.length ? { marker: markerParts.join(';').trim() } : {}),
  };
}

// pip options that take a value, as `-x v`, `-xv`, `--long v` or `--long=v`.
const VALUED = new Set([
  '-r',
  '--requirement',
  '-c',
  '--constraint',
  '-e',
  '--editable',
  '-t',
  '--target',
  '--platform',
  '--python-version',
  '--implementation',
  '--abi',
  '--root',
  '--prefix',
  '--src',
  '--upgrade-strategy',
  '-C',
  '--config-settings',
  '--global-option',
  '-i',
  '--index-url',
  '--extra-index-url',
  '-f',
  '--find-links',
  '--no-binary',
  '--only-binary',
  '--progress-bar',
  '--report',
  '--root-user-action',
  '--log',
  '--proxy',
  '--retries',
  '--timeout',
  '--exists-action',
  '--trusted-host',
  '--cert',
  '--client-cert',
  '--cache-dir',
  '--python',
  '--keyring-provider',
  '--use-feature',
  '--use-deprecated',
  '--hash',
]);

/** Splits `-xvalue` / `--long=value` into option and value; `undefined` value when it is the next word. */
function option(word) {
  if (word.startsWith('--')) {
    const eq = word.indexOf('=');
    return eq < 0 ? [word, undefined] : [word.slice(0, eq), word.slice(eq + 1)];
  }
  const short = word.slice(0, 2);
  return VALUED.has(short) && word.length > 2 ? [short, word.slice(2)] : [word, undefined];
}

/**
 * A requirements file's requirements, nested `-r` files followed (relative to the file that names them).
 * `-e` and other options that install something the check cannot see are returned in `unchecked`.
 */
export function parseRequirementsFile(file, read = (f) => readFileSync(f, 'utf8'), seen = new Set()) {
  const path = resolve(file);
  const out = { requirements: [], unchecked: [] };
  if (seen.has(path)) return out;
  seen.add(path);
  let text;
  try {
    text = read(path);
  } catch (e) {
    throw new Error(`-r ${file}: the requirements file cannot be read (${e.message})`, { cause: e });
  }
  // Logical lines: a trailing backslash continues a line; each keeps the number of its first physical line.
  const lines = [];
  let pending;
  text.split(/\r?\n/).forEach((physical, i) => {
    const start = pending ?? { at: i, text: '' };
    const continued = /\\$/.test(physical);
    start.text += continued ? `${physical.slice(0, -1)} ` : physical;
    pending = continued ? start : undefined;
    if (!continued) lines.push(start);
  });
  if (pending) lines.push(pending);
  lines.forEach(({ at, text: raw }) => {
    const i = at;
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') return;
    const where = `${file}:${i + 1}`;
    if (line.startsWith('-')) {
      const words = line.split(/\s+/);
      const [opt, attached] = option(words[0] ?? '');
      const value = attached ?? words[1];
      if (opt === '-r' || opt === '--requirement') {
        if (!value) throw new Error(`${where}: ${opt} names no file`);
        const nested = parseRequirementsFile(resolve(dirname(path), value), read, seen);
        out.requirements.push(...nested.requirements);
        out.unchecked.push(...nested.unchecked);
      } else if (opt === '-e' || opt === '--editable') out.unchecked.push(`${where}: ${line}`);
      return; // index, constraint and hash options change where pip looks, not what is required
    }
    // Per-requirement options (`--hash=…`) follow the requirement.
    out.requirements.push(parseRequirement(line.replace(/\s--?[a-z][\w-]*(=\S*)?.*$/i, ''), where));
  });
  return out;
}

/**
 * What `pip <args>` asks for: the subcommand and, for `install`, its requirements (from arguments and -r files).
 */
export function parsePipArgs(args, read) {
  let command;
  const requirements = [];
  const unchecked = [];
  const files = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i] ?? '';
    if (word.startsWith('-') && word !== '-') {
      const [opt, attached] = option(word);
      let value = attached;
      if (value === undefined && VALUED.has(opt)) value = args[++i];
      if (command !== 'install') continue;
      if (opt === '-r' || opt === '--requirement') {
        if (value === undefined) throw new Error(`pip install ${opt}: names no requirements file`);
        files.push(value);
        const parsed = parseRequirementsFile(value, read);
        requirements.push(...parsed.requirements);
        unchecked.push(...parsed.unchecked);
      } else if (opt === '-e' || opt === '--editable') unchecked.push(`${opt} ${value ?? ''}`);
      continue;
    }
    if (command === undefined) command = word;
    else if (command === 'install') {
      // A path or URL installs what the check cannot see; a name is a requirement.
      if (/^[./~]|:\/\/|\.(whl|tar\.gz|zip)$/.test(word)) unchecked.push(word);
      else requirements.push(parseRequirement(word));
    }
  }
  return { command, requirements, unchecked, files };
}

/**
 * Why pip failed, when the failure is that it may not install here (the stand-in may then check what is
 * installed); undefined for any other failure, which stays pip's.
 */
export function installBlockedReason(output) {
  if (/externally-managed-environment/.test(output))
    return 'this Python is externally managed (PEP 668): pip may not install into it';
  if (
    /Failed to establish a new connection|Temporary failure in name resolution|Name or service not known|Network is unreachable|Connection refused|ConnectTimeoutError|NewConnectionError|ProxyError|Max retries exceeded|Could not fetch URL|No route to host|Read timed out/.test(
      output,
    )
  )
    return 'no package index can be reached';
  const missing = /No matching distribution found for (\S+)/.exec(output);
  if (missing) return `the package index has no ${missing[1]}`;
  return undefined;
}

/** How Debian packages a Python project (apt-get install …): its own name for tools, python3-<name> for libraries. */
const DEBIAN = { flake8: 'flake8', mypy: 'mypy', bandit: 'bandit', pytest: 'python3-pytest' };
export function debianPackage(key) {
  return DEBIAN[key] ?? `python3-${key}`;
}

// Runs in each Python: for every requirement wanted, the installed distribution's name, version, whether the
// version meets the specifier (by the `packaging` library, pip's vendored copy, or unknown) and its extras.
const PROBE = String.raw`
import json, re, sys
from importlib import metadata
wanted = json.load(sys.stdin)
norm = lambda n: re.sub(r'[-_.]+', '-', n).lower()
try:
    from packaging.specifiers import SpecifierSet
except Exception:
    try:
        from pip._vendor.packaging.specifiers import SpecifierSet
    except Exception:
        SpecifierSet = None
installed = {}
for d in metadata.distributions():
    name = d.metadata['Name']
    if name and norm(name) not in installed:
        installed[norm(name)] = d
found = {}
for w in wanted:
    d = installed.get(w['key'])
    if d is None:
        continue
    extras = {}
    for e in d.metadata.get_all('Provides-Extra') or []:
        extras[norm(e)] = []
    for r in d.requires or []:
        m = re.search(r'extra\s*==\s*["\']([^"\']+)["\']', r)
        dep = re.match(r'\s*([A-Za-z0-9][A-Za-z0-9._-]*)', r)
        if m and dep:
            extras.setdefault(norm(m.group(1)), []).append(norm(dep.group(1)))
    missing_extras = {}
    for e in w['extras']:
        e = norm(e)
        if e not in extras:
            missing_extras[e] = None
        else:
            lacking = [p for p in extras[e] if p not in installed]
            if lacking:
                missing_extras[e] = lacking
    ok = None
    if w['specifier'] and SpecifierSet is not None:
        try:
            ok = SpecifierSet(w['specifier']).contains(d.version, prereleases=True)
        except Exception:
            ok = None
    found[w['key']] = {'name': d.metadata['Name'], 'version': d.version, 'satisfies': ok, 'missingExtras': missing_extras}
print(json.dumps({'python': sys.executable, 'version': sys.version.split()[0], 'found': found}))
`;

/** The Pythons whose installed packages count: python3 and python on the PATH (shims left out), /usr/bin/python3. */
export function pythons(path = realPath()) {
  const list = [findReal('python3', path), findReal('python', path), '/usr/bin/python3'];
  return [...new Set(list.filter((p) => p !== undefined))];
}

/** What each Python has of the requirements (Pythons that cannot run are left out). */
export function probe(requirements, interpreters = pythons(), env = process.env) {
  const wanted = requirements.map(({ key, specifier, extras }) => ({ key, specifier, extras }));
  const results = [];
  const seen = new Set();
  for (const python of interpreters) {
    const run = capture(python, ['-c', PROBE], { input: JSON.stringify(wanted), env });
    if (run.status !== 0) continue;
    let result;
    try {
      result = JSON.parse(run.stdout);
    } catch {
      continue;
    }
    if (seen.has(result.python)) continue;
    seen.add(result.python);
    results.push(result);
  }
  return results;
}

/** One installed requirement as the warning names it: `flake8 5.0.4 (wanted ==7.4.1)`. */
function describe(requirement, found) {
  let text = `${found.name} ${found.version}`;
  const notes = [];
  if (requirement.specifier && found.satisfies !== true) notes.push(`wanted ${requirement.specifier}`);
  for (const [extra, lacking] of Object.entries(found.missingExtras ?? {}))
    notes.push(
      lacking === null ? `it has no extra [${extra}]` : `extra [${extra}] lacks ${lacking.join(', ')}`,
    );
  if (notes.length) text += ` (${notes.join('; ')})`;
  return text;
}

/**
 * The stand-in's decision once pip could not install: every requirement installed for one of the Pythons →
 * `ok` with the warning; otherwise the missing ones and the line saying what to install.
 */
export function decide({ requirements, unchecked, reason, args, probes }) {
  const what = `pip ${args.join(' ')}`;
  const pythonsSeen = probes.map((p) => `${p.python} ${p.version}`).join(', ') || 'no Python found';
  if (unchecked.length)
    return {
      ok: false,
      message: `${what} failed here (${reason}), and the stand-in cannot check ${unchecked.join(', ')} against what is installed`,
    };
  const installed = [];
  const missing = [];
  const used = new Set();
  for (const requirement of requirements) {
    const probeWith = probes.find((p) => p.found[requirement.key]);
    const found = probeWith?.found[requirement.key];
    if (found) {
      installed.push(describe(requirement, found));
      used.add(`${probeWith.python} ${probeWith.version}`);
    } else missing.push(requirement);
  }
  if (missing.length === 0)
    return {
      ok: true,
      message:
        `pip could not install ${args.filter((a) => a !== 'install').join(' ')} here (${reason}); ` +
        `using the installed ${installed.join(', ') || 'packages (none asked)'} [${[...used].join(', ')}]`,
    };
  const debian = [...new Set(missing.map((r) => debianPackage(r.key)))];
  return {
    ok: false,
    message:
      `${what} failed (${reason}), and ${missing.map((r) => r.text).join(', ')} ` +
      `${missing.length === 1 ? 'is' : 'are'} not installed here (${pythonsSeen}): install ` +
      `${missing.length === 1 ? 'it' : 'them'} (Debian: apt-get install ${debian.join(' ')}) or give pip a package index`,
  };
}

/** The shim: `tool` is `pip` or `pip3`. Returns the exit status. */
export function main(tool, args) {
  let asked;
  try {
    asked = parsePipArgs(args);
  } catch (e) {
    asked = { error: e };
  }
  const real = findReal(tool) ?? (tool === 'pip' ? findReal('pip3') : findReal('pip'));
  let status;
  let reason;
  if (real) {
    const run = capture(real, args, { echo: true });
    status = run.status;
    if (status === 0) return 0;
    reason = installBlockedReason(`${run.stdout}\n${run.stderr}`);
  } else {
    status = 127;
    reason = `no ${tool} on this machine`;
    process.stderr.write(`${tool}: command not found (on the PATH: ${realPath()})\n`);
  }
  // Only `install` can be stood in for, and only when pip was kept from installing (not a real error).
  if (!reason || asked.command !== 'install') return status;
  if (asked.error) {
    console.log(`::error::${escapeData(`${tool}: ${asked.error.message}`)}`);
    return status;
  }
  const decision = decide({ ...asked, reason, args, probes: probe(asked.requirements) });
  if (decision.ok) {
    console.log(standInWarning(decision.message));
    return 0;
  }
  console.log(`::error::${escapeData(`stand-in: ${decision.message}`)}`);
  return status;
}

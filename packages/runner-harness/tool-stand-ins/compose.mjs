#!/usr/bin/env node
/**
 * The `docker compose` stand-in (docs/workflow-runner.md, "docker compose"): bin/docker runs it when the
 * machine's docker has no compose plugin (Debian 12's docker.io has none, and its docker-compose v1 has no
 * `up --wait`). It runs a compose file's services with the plain docker CLI, for the subcommands the example
 * workflows use: `up [--build] [-d|--detach] [--wait] [--wait-timeout N] [service…]`, `exec [-T] <service>
 * <cmd…>`, `logs [--no-color] [--timestamps] [--tail N] [service…]`, `down [-v|--volumes]` and `ps`. Anything
 * else is a clear error naming it and what is supported.
 *
 * CI's dockerd has no bridge network (`--bridge=none`), so every container runs with `--network host`: a
 * published port must be the container's own, and every service name resolves to 127.0.0.1 (`--add-host`), so
 * `db:5432` reaches the db service. Containers are labelled with the project and service, so `down` removes
 * only what this stand-in started. An `image:` service whose image is neither local nor pullable is left out
 * with a warning (its dependents' condition said to be unmet) — except `postgres:*` where Debian's PostgreSQL
 * server is installed: then a throwaway cluster runs on the service's port instead (local-servers.mjs, shared with
 * `pnpm workflow`'s job services), and the log says so.
 *
 * Plain JavaScript, so it runs with any node; the one dependency, `yaml`, is runner-harness's own and is
 * resolved relative to this file.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  defuse,
  findPostgres,
  fromState,
  isPostgresImage,
  LocalServerError,
  quote,
  run,
  startPostgres,
} from './local-servers.mjs';

export { defuse, quote };

const require = createRequire(import.meta.url);

/** The label every container and volume of ours carries: `down`, `ps` and `logs` find them by it. */
export const PROJECT_LABEL = 'io.planner-deploy.compose.project';
export const SERVICE_LABEL = 'io.planner-deploy.compose.service';
export const CONFIG_LABEL = 'io.planner-deploy.compose.config-hash';

/** A mistake in the command line or the compose file, or what the stand-in cannot do: exit 1 with the message. */
export class ComposeError extends Error {}

// ---------------------------------------------------------------------------------------------------------
// Command line

const GLOBAL_OPTIONS = '-f/--file FILE, -p/--project-name NAME';

/**
 * What each subcommand accepts. `flags` are booleans, `values` take the next argument (or `=value`); the
 * first positional of `exec` is the service and everything after it is the command, untouched.
 */
const SUBCOMMANDS = {
  up: {
    flags: {
      '--build': 'build',
      '-d': 'detach',
      '--detach': 'detach',
      '--wait': 'wait',
    },
    values: { '--wait-timeout': 'waitTimeout' },
    positional: 'services',
  },
  exec: {
    flags: { '-T': 'noTty', '--no-TTY': 'noTty' },
    values: {
      '-e': 'env',
      '--env': 'env',
      '-w': 'workdir',
      '--workdir': 'workdir',
      '-u': 'user',
      '--user': 'user',
    },
    positional: 'command',
  },
  logs: {
    flags: { '--no-color': 'noColor', '-t': 'timestamps', '--timestamps': 'timestamps' },
    values: { '--tail': 'tail', '-n': 'tail' },
    positional: 'services',
  },
  down: {
    flags: { '-v': 'volumes', '--volumes': 'volumes', '--remove-orphans': 'removeOrphans' },
    values: {},
    positional: 'none',
  },
  ps: {
    flags: { '-a': 'all', '--all': 'all', '-q': 'quiet', '--quiet': 'quiet' },
    values: {},
    positional: 'services',
  },
};

function supportedOptions(spec) {
  const byName = new Map();
  for (const [flag, name] of [...Object.entries(spec.flags), ...Object.entries(spec.values)]) {
    byName.set(name, [...(byName.get(name) ?? []), flag]);
  }
  return [...byName.values()].map((flags) => flags.join('/')).join(', ') || 'none';
}

/**
 * Parses `docker compose …` arguments (without `compose`) into `{ files, projectName, command, options,
 * services, service, args }`. Throws ComposeError naming the unsupported subcommand or option.
 */
export function parseCommandLine(argv) {
  const files = [];
  let projectName;
  let i = 0;
  const takeValue = (flag) => {
    const eq = argv[i].indexOf('=');
    if (argv[i].startsWith('--') && eq > 0) return argv[i].slice(eq + 1);
    i += 1;
    if (i >= argv.length) throw new ComposeError(`docker compose: option ${flag} needs a value`);
    return argv[i];
  };
  for (; i < argv.length && argv[i].startsWith('-'); i += 1) {
    const flag = argv[i].split('=')[0];
    if (flag === '-f' || flag === '--file') files.push(takeValue(flag));
    else if (flag === '-p' || flag === '--project-name') projectName = takeValue(flag);
    else {
      throw new ComposeError(
        `docker compose: option ${quote(argv[i])} is not supported by the compose stand-in (supported before the subcommand: ${GLOBAL_OPTIONS})`,
      );
    }
  }
  const command = argv[i];
  const known = Object.keys(SUBCOMMANDS).join(', ');
  if (command === undefined)
    throw new ComposeError(`docker compose: no subcommand given (the compose stand-in supports: ${known})`);
  const spec = Object.hasOwn(SUBCOMMANDS, command) ? SUBCOMMANDS[command] : undefined;
  if (spec === undefined) {
    throw new ComposeError(
      `docker compose: subcommand ${quote(command)} is not supported by the compose stand-in (supported: ${known})`,
    );
  }
  const options = {};
  const positionals = [];
  for (i += 1; i < argv.length; i += 1) {
    const arg = argv[i];
    if (spec.positional === 'command' && positionals.length > 0) {
      positionals.push(...argv.slice(i));
      break;
    }
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const flag = arg.startsWith('--') ? arg.split('=')[0] : arg;
    if (Object.hasOwn(spec.flags, flag) && flag === arg) options[spec.flags[flag]] = true;
    else if (Object.hasOwn(spec.values, flag)) {
      const name = spec.values[flag];
      const value = takeValue(flag);
      if (name === 'env') options.env = [...(options.env ?? []), value];
      else options[name] = value;
    } else {
      throw new ComposeError(
        `docker compose ${command}: option ${quote(arg)} is not supported by the compose stand-in (supported: ${supportedOptions(spec)})`,
      );
    }
  }
  const result = { files, projectName, command, options, services: [], service: undefined, args: [] };
  if (spec.positional === 'none' && positionals.length > 0) {
    throw new ComposeError(
      `docker compose ${command}: takes no arguments here, got ${quote(positionals.join(' '))}`,
    );
  }
  if (spec.positional === 'services') result.services = positionals;
  if (spec.positional === 'command') {
    if (positionals.length < 2)
      throw new ComposeError(`docker compose exec: usage: exec [-T] <service> <command> [args…]`);
    [result.service, ...result.args] = positionals;
  }
  if (command === 'up' && !options.detach && !options.wait) {
    throw new ComposeError(
      'docker compose up: the compose stand-in runs the stack in the background only: pass -d/--detach (or --wait); attaching to the logs is not supported',
    );
  }
  for (const key of ['waitTimeout', 'tail']) {
    if (options[key] !== undefined && !/^\d+$/.test(options[key])) {
      throw new ComposeError(
        `docker compose ${command}: ${key === 'tail' ? '--tail' : '--wait-timeout'} must be a whole number, got ${quote(options[key])}`,
      );
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// The compose file

const DEFAULT_FILES = ['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'];
const TOP_LEVEL_KEYS = ['services', 'volumes', 'name', 'version'];
const SERVICE_KEYS = [
  'image',
  'build',
  'command',
  'entrypoint',
  'environment',
  'ports',
  'expose',
  'depends_on',
  'healthcheck',
  'working_dir',
  'user',
  'volumes',
  'restart',
  'labels',
];
const BUILD_KEYS = ['context', 'dockerfile', 'target', 'args'];
const HEALTHCHECK_KEYS = ['test', 'interval', 'timeout', 'retries', 'start_period', 'disable'];
const CONDITIONS = ['service_started', 'service_healthy', 'service_completed_successfully'];
const DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;

/**
 * Compose's variable substitution in a string of the file: `$$` is a `$`, `$VAR`/`${VAR}` the variable (empty
 * when unset), `${VAR:-default}` and `${VAR-default}` with a default. By hand: the `yaml` package parses, it
 * does not interpolate, and no library for compose's syntax is kept here.
 */
export function interpolate(text, env, where) {
  return text.replace(/\$(\$|\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (whole, _all, braced, bare) => {
    if (whole === '$$') return '$';
    if (bare !== undefined) return env[bare] ?? '';
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)(.*))?$/s.exec(braced);
    if (!m) {
      throw new ComposeError(
        `${where}: the substitution ${quote(whole)} is not supported by the compose stand-in (supported: $VAR, \${VAR}, \${VAR:-default}, \${VAR-default}, $$ for a $)`,
      );
    }
    const value = env[m[1]];
    if (m[2] === ':-') return value === undefined || value === '' ? m[3] : value;
    if (m[2] === '-') return value === undefined ? m[3] : value;
    return value ?? '';
  });
}

function interpolateAll(node, env, where) {
  if (typeof node === 'string') return interpolate(node, env, where);
  if (Array.isArray(node)) return node.map((item) => interpolateAll(item, env, where));
  if (node !== null && typeof node === 'object') {
    return Object.fromEntries(
      Object.entries(node).map(([k, v]) => [k, interpolateAll(v, env, `${where}.${k}`)]),
    );
  }
  return node;
}

function isMap(node) {
  return node !== null && typeof node === 'object' && !Array.isArray(node);
}

function checkKeys(node, allowed, where) {
  for (const key of Object.keys(node)) {
    if (key.startsWith('x-')) continue;
    if (!allowed.includes(key)) {
      throw new ComposeError(
        `${where}: key ${quote(key)} is not supported by the compose stand-in (supported: ${allowed.join(', ')})`,
      );
    }
  }
}

/** A string, or a list of strings, as an argument vector; a string is split on blanks (no quoting: see below). */
function argVector(value, where) {
  if (Array.isArray(value)) return value.map((v) => scalar(v, where));
  if (typeof value === 'string') {
    // Compose splits a string command like a shell would. Without quotes or escapes that is splitting on
    // blanks; with them the list form says exactly what is meant, so the stand-in asks for it rather than
    // guess (no shell-words library is kept here).
    if (/["'\\]/.test(value)) {
      throw new ComposeError(
        `${where}: ${quote(value)} has quotes or backslashes; write it as a list (["cmd", "arg"]) for the compose stand-in`,
      );
    }
    return value.split(/\s+/).filter(Boolean);
  }
  throw new ComposeError(
    `${where}: must be a string or a list of strings, got ${quote(JSON.stringify(value))}`,
  );
}

function scalar(value, where) {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new ComposeError(`${where}: must be a string, got ${quote(JSON.stringify(value))}`);
}

function environment(value, where, env) {
  const out = {};
  if (value === undefined || value === null) return out;
  if (Array.isArray(value)) {
    for (const item of value) {
      const text = scalar(item, where);
      const eq = text.indexOf('=');
      if (eq < 0) {
        if (env[text] !== undefined) out[text] = env[text];
      } else out[text.slice(0, eq)] = text.slice(eq + 1);
    }
    return out;
  }
  if (!isMap(value)) throw new ComposeError(`${where}: must be a map or a list of NAME=value`);
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined) {
      if (env[k] !== undefined) out[k] = env[k];
    } else out[k] = scalar(v, `${where}.${k}`);
  }
  return out;
}

/** `ports:` entries, checked for host networking: the host port must be the container's. */
function ports(value, where) {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ComposeError(`${where}: must be a list`);
  return value.map((entry) => {
    let published;
    let target;
    let protocol;
    if (isMap(entry)) {
      target = entry.target === undefined ? undefined : String(entry.target);
      published = entry.published === undefined ? undefined : String(entry.published);
      protocol = entry.protocol ?? 'tcp';
    } else {
      const text = scalar(entry, where);
      const m = /^(?:(?:\[[^\]]*\]|[^:]*):)??(?:(\d+):)?(\d+)(?:\/(tcp|udp))?$/.exec(text);
      if (!m) {
        throw new ComposeError(
          `${where}: ${quote(text)} is not supported by the compose stand-in (supported: "PORT", "HOST:CONTAINER", "IP:HOST:CONTAINER", optionally /tcp or /udp; no ranges)`,
        );
      }
      published = m[1];
      target = m[2];
      protocol = m[3] ?? 'tcp';
    }
    if (target === undefined || !/^\d+$/.test(target))
      throw new ComposeError(`${where}: a port needs a numeric target, got ${quote(JSON.stringify(entry))}`);
    if (published !== undefined && published !== target) {
      throw new ComposeError(
        `${where}: ${quote(isMap(entry) ? JSON.stringify(entry) : entry)} publishes container port ${target} on host port ${published}; the compose stand-in runs containers with host networking (no bridge network here), so the two must be equal`,
      );
    }
    return { port: Number(target), protocol };
  });
}

/** Shell-quotes one word (single quotes; a quote inside becomes '\''). By hand: one line, no library needed. */
function shellWord(word) {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

function healthcheck(value, where) {
  if (value === undefined) return undefined;
  if (!isMap(value)) throw new ComposeError(`${where}: must be a map`);
  checkKeys(value, HEALTHCHECK_KEYS, where);
  if (value.disable === true) return { disabled: true };
  let shell;
  const test = value.test;
  if (typeof test === 'string') shell = test;
  else if (Array.isArray(test) && test.length > 0) {
    const [kind, ...rest] = test.map((t) => scalar(t, `${where}.test`));
    if (kind === 'NONE') return { disabled: true };
    if (kind === 'CMD') shell = rest.map(shellWord).join(' ');
    else if (kind === 'CMD-SHELL') shell = rest.join(' ');
    else throw new ComposeError(`${where}.test: must start with CMD, CMD-SHELL or NONE, got ${quote(kind)}`);
    if (shell === '') throw new ComposeError(`${where}.test: ${kind} needs a command`);
  } else throw new ComposeError(`${where}.test: must be a string or a list ["CMD", …]`);
  const out = {
    shell,
    exec: Array.isArray(test) && test[0] === 'CMD' ? test.slice(1).map(String) : undefined,
  };
  for (const [key, name] of [
    ['interval', 'interval'],
    ['timeout', 'timeout'],
    ['start_period', 'startPeriod'],
  ]) {
    if (value[key] === undefined) continue;
    const text = scalar(value[key], `${where}.${key}`);
    if (!DURATION.test(text))
      throw new ComposeError(`${where}.${key}: ${quote(text)} is not a duration (like 2s, 1m30s, 500ms)`);
    out[name] = text;
  }
  if (value.retries !== undefined) {
    if (!Number.isInteger(value.retries) || value.retries < 0)
      throw new ComposeError(`${where}.retries: must be a whole number, got ${quote(value.retries)}`);
    out.retries = value.retries;
  }
  return out;
}

function dependsOn(value, where) {
  if (value === undefined) return [];
  if (Array.isArray(value))
    return value.map((s) => ({ service: scalar(s, where), condition: 'service_started' }));
  if (!isMap(value)) throw new ComposeError(`${where}: must be a list of services or a map`);
  return Object.entries(value).map(([service, spec]) => {
    const condition = isMap(spec) && spec.condition !== undefined ? spec.condition : 'service_started';
    if (!CONDITIONS.includes(condition)) {
      throw new ComposeError(
        `${where}.${service}.condition: ${quote(condition)} is not one of ${CONDITIONS.join(', ')}`,
      );
    }
    return { service, condition };
  });
}

function build(value, where, dir) {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return { context: resolve(dir, value), args: {} };
  if (!isMap(value)) throw new ComposeError(`${where}: must be a path or a map`);
  checkKeys(value, BUILD_KEYS, where);
  return {
    context: resolve(dir, scalar(value.context ?? '.', `${where}.context`)),
    dockerfile: value.dockerfile === undefined ? undefined : scalar(value.dockerfile, `${where}.dockerfile`),
    target: value.target === undefined ? undefined : scalar(value.target, `${where}.target`),
    args: environment(value.args, `${where}.args`, {}),
  };
}

/** Named volumes (`name:/path[:ro]`, declared at the top level) and bind mounts (`./dir:/path`). */
function volumes(value, where, dir, declared, project) {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ComposeError(`${where}: must be a list`);
  return value.map((entry) => {
    const text = scalar(entry, where);
    const m = /^([^:]+):(\/[^:]*)(?::(ro|rw))?$/.exec(text);
    if (!m)
      throw new ComposeError(
        `${where}: ${quote(text)} is not supported by the compose stand-in (supported: NAME:/path, ./dir:/path, optionally :ro)`,
      );
    const [, source, target, mode] = m;
    const suffix = mode ? `:${mode}` : '';
    if (source.startsWith('.') || source.startsWith('/') || source.startsWith('~')) {
      return { bind: `${resolve(dir, source)}:${target}${suffix}` };
    }
    if (!declared.includes(source))
      throw new ComposeError(
        `${where}: volume ${quote(source)} is not declared under the top-level volumes:`,
      );
    return { volume: `${project}_${source}`, mount: `${project}_${source}:${target}${suffix}` };
  });
}

/** compose's rule for a project name: lower case letters, digits, dashes and underscores. */
export function projectNameFrom(text) {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[^a-z0-9]+/, '');
}

/**
 * Reads and checks the compose file (`files[0]`, else compose.yaml … docker-compose.yaml in `cwd`) into a
 * project: `{ name, dir, file, services: {name: service}, order, volumes }`. Every mistake is found here,
 * before anything changes.
 */
export function loadProject({ files = [], projectName, cwd = process.cwd(), env = process.env } = {}) {
  if (files.length > 1)
    throw new ComposeError(
      `docker compose: the compose stand-in reads one compose file, got -f ${files.map(quote).join(' -f ')}`,
    );
  let file;
  if (files.length === 1) file = resolve(cwd, files[0]);
  else {
    file = DEFAULT_FILES.map((f) => join(cwd, f)).find((f) => existsSync(f));
    if (!file)
      throw new ComposeError(
        `docker compose: no compose file in ${cwd} (looked for ${DEFAULT_FILES.join(', ')}; or pass -f FILE)`,
      );
  }
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ComposeError(`docker compose: cannot read the compose file ${file}: ${err.message}`);
  }
  const YAML = require('yaml');
  const doc = YAML.parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) throw new ComposeError(`${file}: not valid YAML: ${doc.errors[0].message}`);
  const raw = interpolateAll(doc.toJS(), env, basename(file));
  if (!isMap(raw)) throw new ComposeError(`${file}: must be a map with services:`);
  checkKeys(raw, TOP_LEVEL_KEYS, basename(file));
  if (!isMap(raw.services) || Object.keys(raw.services).length === 0)
    throw new ComposeError(`${file}: has no services:`);
  const dir = dirname(file);
  const name = projectNameFrom(
    projectName ?? env.COMPOSE_PROJECT_NAME ?? (typeof raw.name === 'string' ? raw.name : basename(dir)),
  );
  if (name === '')
    throw new ComposeError(
      `docker compose: cannot make a project name from ${quote(projectName ?? basename(dir))}; pass -p NAME`,
    );
  const declaredVolumes = isMap(raw.volumes) ? Object.keys(raw.volumes) : [];
  const services = {};
  for (const [serviceName, spec] of Object.entries(raw.services)) {
    const where = `${basename(file)}: services.${serviceName}`;
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(serviceName))
      throw new ComposeError(`${where}: ${quote(serviceName)} is not a valid service name`);
    if (!isMap(spec)) throw new ComposeError(`${where}: must be a map`);
    checkKeys(spec, SERVICE_KEYS, where);
    const service = {
      name: serviceName,
      image: spec.image === undefined ? undefined : scalar(spec.image, `${where}.image`),
      build: build(spec.build, `${where}.build`, dir),
      command:
        spec.command === undefined || spec.command === null
          ? undefined
          : argVector(spec.command, `${where}.command`),
      entrypoint:
        spec.entrypoint === undefined || spec.entrypoint === null
          ? undefined
          : argVector(spec.entrypoint, `${where}.entrypoint`),
      environment: environment(spec.environment, `${where}.environment`, env),
      ports: ports(spec.ports, `${where}.ports`),
      dependsOn: dependsOn(spec.depends_on, `${where}.depends_on`),
      healthcheck: healthcheck(spec.healthcheck, `${where}.healthcheck`),
      workingDir:
        spec.working_dir === undefined ? undefined : scalar(spec.working_dir, `${where}.working_dir`),
      user: spec.user === undefined ? undefined : scalar(spec.user, `${where}.user`),
      restart: spec.restart === undefined ? undefined : scalar(spec.restart, `${where}.restart`),
      labels: environment(spec.labels, `${where}.labels`, {}),
      volumes: volumes(spec.volumes, `${where}.volumes`, dir, declaredVolumes, name),
    };
    if (!service.image && !service.build) throw new ComposeError(`${where}: needs image: or build:`);
    if (!service.image) service.image = `${name}-${serviceName}`;
    services[serviceName] = service;
  }
  for (const service of Object.values(services)) {
    for (const dep of service.dependsOn) {
      const where = `${basename(file)}: services.${service.name}.depends_on`;
      if (!services[dep.service]) throw new ComposeError(`${where}: no service named ${quote(dep.service)}`);
      const target = services[dep.service];
      if (dep.condition === 'service_healthy' && (!target.healthcheck || target.healthcheck.disabled)) {
        throw new ComposeError(
          `${where}: ${dep.service} has condition service_healthy but no healthcheck: in the compose file (the compose stand-in reads it from there)`,
        );
      }
    }
  }
  return { name, dir, file, services, order: startOrder(services, file), volumes: declaredVolumes };
}

/** The services in `depends_on` order (dependencies first); a cycle is an error naming it. */
function startOrder(services, file) {
  const order = [];
  const state = new Map();
  const visit = (name, path) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting')
      throw new ComposeError(`${basename(file)}: depends_on has a cycle: ${[...path, name].join(' → ')}`);
    state.set(name, 'visiting');
    for (const dep of services[name].dependsOn) visit(dep.service, [...path, name]);
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of Object.keys(services)) visit(name, []);
  return order;
}

/** The container a service runs in (compose's `<project>-<service>-1`). */
export function containerName(project, service) {
  return `${project.name}-${service}-1`;
}

/** The `docker build` arguments for a `build:` service. */
export function buildArgs(project, service) {
  const b = service.build;
  // --force-rm: the legacy builder otherwise leaves the container of a failed step behind.
  const args = ['build', '--force-rm', '--tag', service.image];
  if (b.dockerfile)
    args.push('--file', isAbsolute(b.dockerfile) ? b.dockerfile : join(b.context, b.dockerfile));
  if (b.target) args.push('--target', b.target);
  for (const [k, v] of Object.entries(b.args)) args.push('--build-arg', `${k}=${v}`);
  args.push('--label', `${PROJECT_LABEL}=${project.name}`, b.context);
  return args;
}

/** The `docker run` arguments for a service (its image first resolved to `image`); the config hash is added by the caller. */
export function runArgs(project, service, image = service.image) {
  const args = ['run', '--detach', '--name', containerName(project, service.name), '--network', 'host'];
  args.push('--label', `${PROJECT_LABEL}=${project.name}`, '--label', `${SERVICE_LABEL}=${service.name}`);
  for (const [k, v] of Object.entries(service.labels)) args.push('--label', `${k}=${v}`);
  for (const other of Object.keys(project.services)) args.push('--add-host', `${other}:127.0.0.1`);
  for (const [k, v] of Object.entries(service.environment)) args.push('--env', `${k}=${v}`);
  const hc = service.healthcheck;
  if (hc?.disabled) args.push('--no-healthcheck');
  else if (hc) {
    args.push('--health-cmd', hc.shell);
    if (hc.interval) args.push('--health-interval', hc.interval);
    if (hc.timeout) args.push('--health-timeout', hc.timeout);
    if (hc.retries !== undefined) args.push('--health-retries', String(hc.retries));
    if (hc.startPeriod) args.push('--health-start-period', hc.startPeriod);
  }
  if (service.workingDir) args.push('--workdir', service.workingDir);
  if (service.user) args.push('--user', service.user);
  if (service.restart) args.push('--restart', service.restart);
  for (const v of service.volumes) args.push('--volume', v.bind ?? v.mount);
  let command = service.command ?? [];
  if (service.entrypoint) {
    const [entry, ...rest] = service.entrypoint;
    args.push('--entrypoint', entry ?? '');
    command = [...rest, ...command];
  }
  args.push(image, ...command);
  return args;
}

// ---------------------------------------------------------------------------------------------------------
// The engine

/** Runs docker; resolves `{ code, stdout, stderr }` (never rejects but when docker cannot start). */
function docker(args, { input, stdio, timeoutMs } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.env.PLANNER_COMPOSE_DOCKER ?? 'docker', args, {
      stdio: stdio ?? [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...(timeoutMs ? { timeout: timeoutMs, killSignal: 'SIGKILL' } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (c) => (stdout += c));
    child.stderr?.on('data', (c) => (stderr += c));
    child.on('error', (err) => reject(new ComposeError(`docker compose: cannot run docker: ${err.message}`)));
    child.on('close', (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    // A docker that exits before reading its input must not end us with an unhandled EPIPE.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}

/**
 * Where the stand-in writes: its own lines to stderr (as compose does), warnings as `::warning::` lines on
 * stdout, and text from docker and the containers on stdout inside `::stop-commands::` with each line
 * defused, so the runner acts on none of it.
 */
export function makeOutput(
  write = (s) => process.stdout.write(s),
  writeErr = (s) => process.stderr.write(s),
) {
  let token;
  const resume = () => {
    if (token === undefined) return;
    write(`::${token}::\n`);
    token = undefined;
  };
  return {
    say(line) {
      resume();
      writeErr(`${line}\n`);
    },
    warn(message) {
      resume();
      write(`::warning::${message.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}\n`);
    },
    untrusted(line, prefix = '') {
      if (token === undefined) {
        token = `untrusted-${createHash('sha256').update(`${process.pid}-${Date.now()}-${Math.random()}`).digest('hex').slice(0, 32)}`;
        write(`::stop-commands::${token}\n`);
      }
      write(`${prefix}${defuse(line)}\n`);
    },
    end: resume,
  };
}

async function inspectState(name) {
  const r = await docker(['inspect', '--format', '{{json .}}', name]);
  if (r.code !== 0) return undefined;
  const info = JSON.parse(r.stdout);
  return { id: info.Id, labels: info.Config?.Labels ?? {}, state: info.State ?? {}, image: info.Image };
}

async function projectContainers(project, all = true) {
  const r = await docker([
    'ps',
    ...(all ? ['--all'] : []),
    '--filter',
    `label=${PROJECT_LABEL}=${project.name}`,
    '--format',
    `{{.Names}}\t{{.Label "${SERVICE_LABEL}"}}\t{{.Status}}\t{{.Image}}`,
  ]);
  if (r.code !== 0) throw new ComposeError(`docker compose: docker ps failed: ${quote(r.stderr.trim())}`);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name, service, status, image] = line.split('\t');
      return { name, service, status, image };
    });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function lastLogLines(name, count = 20) {
  const r = await docker(['logs', '--tail', String(count), name]);
  return `${r.stdout}${r.stderr}`.split(/\r\n|\r|\n/).filter((l) => l !== '');
}

/**
 * Waits until `service` meets `condition` (service_started: running; service_healthy: healthy;
 * service_completed_successfully: exited 0) or the deadline passes. Resolves `{ ok, why }`.
 */
async function waitFor(project, service, condition, deadline, stubs) {
  const stub = stubs.get(service.name);
  if (stub) return stub.wait(condition, deadline);
  const name = containerName(project, service.name);
  for (;;) {
    const info = await inspectState(name);
    if (!info) return { ok: false, why: 'its container is gone' };
    const s = info.state;
    const health = s.Health?.Status;
    if (condition === 'service_completed_successfully') {
      if (s.Status === 'exited')
        return s.ExitCode === 0 ? { ok: true } : { ok: false, why: `it exited with code ${s.ExitCode}` };
    } else if (!s.Running) {
      return { ok: false, why: `its container is ${s.Status} (exit code ${s.ExitCode})` };
    } else if (condition === 'service_healthy' || (condition === 'healthy_if_checked' && health)) {
      if (health === 'healthy') return { ok: true, healthy: true };
      if (health === 'unhealthy') return { ok: false, why: 'its healthcheck reports unhealthy' };
    } else return { ok: true };
    if (Date.now() > deadline) {
      return {
        ok: false,
        why: `it was not ${condition === 'service_completed_successfully' ? 'done' : health || condition === 'service_healthy' ? 'healthy' : 'running'} in time (state ${s.Status}${health ? `, health ${health}` : ''})`,
      };
    }
    await sleep(500);
  }
}

async function reportFailure(project, service, why, out, stubs) {
  out.say(`✘ ${service.name}: ${why}`);
  const stub = stubs.get(service.name);
  const lines = stub ? stub.lastLines(20) : await lastLogLines(containerName(project, service.name));
  if (lines.length === 0) {
    out.say(`  (${service.name} logged nothing)`);
    return;
  }
  out.say(`  its last ${lines.length} log lines (text from the service, not the stand-in's):`);
  for (const line of lines) out.untrusted(line, `  ${service.name} | `);
  out.end();
}

/** The image of an `image:` service: local, else pulled; undefined when neither works. */
async function ensureImage(image, out) {
  if ((await docker(['image', 'inspect', '--format', '{{.Id}}', image])).code === 0) return image;
  out.say(`pulling ${image} …`);
  // A network that drops packets instead of refusing them would hold a pull for minutes: 60 s is plenty
  // for a registry that answers.
  const pulled = await docker(['pull', '--quiet', image], { timeoutMs: 60_000 });
  if (pulled.code !== 0 && pulled.stderr.trim() === '') pulled.stderr = 'no answer within 60 s';
  if (pulled.code === 0) return image;
  return { failed: pulled.stderr.trim().split('\n').pop() ?? '' };
}

async function imageId(image) {
  const r = await docker(['image', 'inspect', '--format', '{{.Id}}', image]);
  return r.code === 0 ? r.stdout.trim() : '';
}

async function up(project, opts, out) {
  const version = await docker(['version', '--format', '{{.Server.Version}}']);
  if (version.code !== 0) {
    throw new ComposeError(
      `docker compose up: the Docker engine does not answer (DOCKER_HOST=${process.env.DOCKER_HOST ?? 'unset'}): ${quote(version.stderr.trim())}`,
    );
  }
  const wanted = selectWithDependencies(project, opts.services);
  const order = project.order.filter((n) => wanted.has(n));
  const waitSeconds = opts.waitTimeout === undefined ? 180 : Number(opts.waitTimeout);
  const deadline = Date.now() + waitSeconds * 1000;

  // Builds first, as compose does.
  for (const name of order) {
    const service = project.services[name];
    if (!service.build) continue;
    if (!opts.build && (await imageId(service.image)) !== '') continue;
    out.say(
      `building ${name} (${service.build.target ? `target ${service.build.target}, ` : ''}image ${service.image}) …`,
    );
    // Its output is shown when the build fails: on success it is pages of cached steps that would bury the
    // lines that matter in the step's log.
    const built = await docker(buildArgs(project, service));
    if (built.code !== 0) {
      for (const line of `${built.stdout}${built.stderr}`.split(/\r\n|\r|\n/)) out.untrusted(line, '  ');
      out.end();
      throw new ComposeError(
        `docker compose up: building ${name} failed (docker build exited ${built.code}; its output is above)`,
      );
    }
    out.say(`built ${name} (image ${service.image}, ${(await imageId(service.image)).slice(0, 19)})`);
  }

  const stubs = await loadStubs(project);
  const missing = new Map();
  for (const name of order) {
    const service = project.services[name];
    for (const dep of service.dependsOn) {
      if (missing.has(dep.service)) {
        out.warn(
          `stand-in: ${name} depends on ${dep.service} (${dep.condition}), which is not running here (${missing.get(dep.service)}): that condition is NOT met; starting ${name} anyway`,
        );
        continue;
      }
      const met = await waitFor(project, project.services[dep.service], dep.condition, deadline, stubs);
      if (!met.ok) {
        await reportFailure(
          project,
          project.services[dep.service],
          `dependency of ${name} failed: ${met.why}`,
          out,
          stubs,
        );
        throw new ComposeError(
          `docker compose up: ${dep.service} did not meet ${dep.condition} for ${name}: ${met.why}`,
        );
      }
    }
    let image = service.image;
    if (stubs.has(name)) {
      if (stubs.get(name).status().startsWith('running')) {
        out.say(`${name} (the PostgreSQL stand-in) is already running`);
        continue;
      }
      stubs.delete(name);
    }
    if (!service.build) {
      const got = await ensureImage(service.image, out);
      if (typeof got !== 'string') {
        const pg = postgresStandIn(project, service);
        if (pg.available) {
          out.warn(
            `stand-in: the image ${service.image} of ${name} is not here and cannot be pulled (${got.failed}); ${name} runs as a throwaway PostgreSQL ${pg.version} cluster of this machine (${pg.bin}) on 127.0.0.1:${pg.port} instead`,
          );
          const stub = await pg.start(out);
          stubs.set(name, stub);
          continue;
        }
        const reason = `its image ${service.image} is not here and cannot be pulled`;
        out.warn(`stand-in: ${name} is NOT started: ${reason} (${got.failed})${pg.why ? `; ${pg.why}` : ''}`);
        missing.set(name, reason);
        continue;
      }
      image = got;
    }
    await startContainer(project, service, image, out);
  }

  if (opts.wait) {
    for (const name of order) {
      if (missing.has(name)) continue;
      const service = project.services[name];
      // Healthy when the compose file or the image has a healthcheck; else running.
      const condition =
        service.healthcheck && !service.healthcheck.disabled ? 'service_healthy' : 'healthy_if_checked';
      const met = await waitFor(project, service, condition, deadline, stubs);
      if (!met.ok) {
        await reportFailure(project, service, met.why, out, stubs);
        throw new ComposeError(
          `docker compose up --wait: ${name} did not become ready within ${waitSeconds}s: ${met.why}`,
        );
      }
      out.say(`✔ ${name} ${met.healthy ? 'healthy' : 'running'}`);
    }
  }
  if (missing.size > 0) out.say(`not started: ${[...missing.keys()].join(', ')} (see the warnings above)`);
}

function selectWithDependencies(project, names) {
  if (!names || names.length === 0) return new Set(project.order);
  const out = new Set();
  const add = (n) => {
    if (!project.services[n])
      throw new ComposeError(
        `docker compose: no service named ${quote(n)} (services: ${project.order.join(', ')})`,
      );
    if (out.has(n)) return;
    out.add(n);
    for (const dep of project.services[n].dependsOn) add(dep.service);
  };
  names.forEach(add);
  return out;
}

async function startContainer(project, service, image, out) {
  const name = containerName(project, service.name);
  const args = runArgs(project, service, image);
  const hash = createHash('sha256')
    .update(JSON.stringify([args, await imageId(image)]))
    .digest('hex')
    .slice(0, 16);
  const existing = await inspectState(name);
  if (existing) {
    if (existing.labels[PROJECT_LABEL] !== project.name) {
      throw new ComposeError(
        `docker compose up: a container named ${name} exists that the compose stand-in did not start; remove it, or pick another project name with -p`,
      );
    }
    if (existing.labels[CONFIG_LABEL] === hash && existing.state.Running) {
      out.say(`${name} is up to date`);
      return;
    }
    await docker(['rm', '--force', name]);
    out.say(`recreating ${name}`);
  }
  for (const v of service.volumes) {
    if (v.volume) await docker(['volume', 'create', '--label', `${PROJECT_LABEL}=${project.name}`, v.volume]);
  }
  const runWithHash = [...args];
  runWithHash.splice(runWithHash.indexOf('--network'), 0, '--label', `${CONFIG_LABEL}=${hash}`);
  const r = await docker(runWithHash);
  if (r.code !== 0)
    throw new ComposeError(`docker compose up: starting ${service.name} failed: ${quote(r.stderr.trim())}`);
  out.say(`started ${name}`);
}

async function down(project, opts, out) {
  const containers = await projectContainers(project);
  for (const c of containers) {
    const r = await docker(['rm', '--force', ...(opts.volumes ? ['--volumes'] : []), c.name]);
    if (r.code !== 0)
      throw new ComposeError(`docker compose down: removing ${c.name} failed: ${quote(r.stderr.trim())}`);
    out.say(`removed ${c.name}`);
  }
  const stubs = await loadStubs(project);
  for (const [name, stub] of stubs) {
    await stub.stop(opts.volumes);
    out.say(`stopped ${name} (the PostgreSQL stand-in)${opts.volumes ? ', its data removed' : ''}`);
  }
  if (opts.volumes) {
    const r = await docker(['volume', 'ls', '--quiet', '--filter', `label=${PROJECT_LABEL}=${project.name}`]);
    for (const v of r.stdout.split('\n').filter(Boolean)) {
      await docker(['volume', 'rm', '--force', v]);
      out.say(`removed volume ${v}`);
    }
  }
  if (opts.volumes) rmSync(stateDir(project), { recursive: true, force: true });
  if (containers.length === 0 && stubs.size === 0) out.say(`nothing of project ${project.name} is running`);
}

async function ps(project, opts, out, write) {
  const containers = (await projectContainers(project, opts.all)).filter(
    (c) => opts.services.length === 0 || opts.services.includes(c.service),
  );
  const stubs = await loadStubs(project);
  if (opts.quiet) {
    for (const c of containers) write(`${c.name}\n`);
    return;
  }
  const rows = [['NAME', 'SERVICE', 'STATUS', 'IMAGE']];
  for (const c of containers) rows.push([c.name, c.service, c.status, c.image]);
  for (const [name, stub] of stubs) {
    if (opts.services.length === 0 || opts.services.includes(name))
      rows.push([`(local) ${name}`, name, stub.status(), stub.description]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows)
    write(
      `${r
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('   ')
        .trimEnd()}\n`,
    );
  void out;
}

async function logs(project, opts, out) {
  const names = opts.services.length > 0 ? opts.services : project.order;
  for (const n of names) {
    if (!project.services[n])
      throw new ComposeError(
        `docker compose logs: no service named ${quote(n)} (services: ${project.order.join(', ')})`,
      );
  }
  const stubs = await loadStubs(project);
  const width = Math.max(...names.map((n) => `${n}-1`.length));
  for (const n of names) {
    const prefix = `${`${n}-1`.padEnd(width)}  | `;
    const stub = stubs.get(n);
    if (stub) {
      for (const line of stub.lastLines(opts.tail === undefined ? Infinity : Number(opts.tail)))
        out.untrusted(line, prefix);
      continue;
    }
    const name = containerName(project, n);
    if (!(await inspectState(name))) continue;
    // One file for the container's stdout and stderr keeps their lines in the order docker writes them.
    const tmp = join(tmpdir(), `planner-compose-logs-${process.pid}-${n}`);
    const fd = openSync(tmp, 'w+');
    try {
      await docker(
        [
          'logs',
          ...(opts.timestamps ? ['--timestamps'] : []),
          ...(opts.tail !== undefined ? ['--tail', opts.tail] : []),
          name,
        ],
        { stdio: ['ignore', fd, fd] },
      );
    } finally {
      closeSync(fd);
    }
    const text = readFileSync(tmp, 'utf8');
    rmSync(tmp, { force: true });
    for (const line of text.split(/\r\n|\r|\n/)) if (line !== '') out.untrusted(line, prefix);
  }
  out.end();
}

async function exec(project, opts, out) {
  const service = project.services[opts.service];
  if (!service)
    throw new ComposeError(
      `docker compose exec: no service named ${quote(opts.service)} (services: ${project.order.join(', ')})`,
    );
  const stubs = await loadStubs(project);
  if (stubs.has(service.name)) {
    throw new ComposeError(
      `docker compose exec: ${service.name} runs as the local PostgreSQL stand-in, not in a container: exec into it is not possible (use psql on 127.0.0.1)`,
    );
  }
  const name = containerName(project, service.name);
  const info = await inspectState(name);
  if (!info || !info.state.Running)
    throw new ComposeError(
      `docker compose exec: service ${service.name} is not running (docker compose up first)`,
    );
  const args = ['exec', '--interactive'];
  if (!opts.noTty && process.stdin.isTTY && process.stdout.isTTY) args.push('--tty');
  for (const e of opts.env ?? []) args.push('--env', e);
  if (opts.workdir) args.push('--workdir', opts.workdir);
  if (opts.user) args.push('--user', opts.user);
  args.push(name, ...opts.args);
  out.end();
  const child = spawn(process.env.PLANNER_COMPOSE_DOCKER ?? 'docker', args, { stdio: 'inherit' });
  return new Promise((resolvePromise, reject) => {
    child.on('error', (err) =>
      reject(new ComposeError(`docker compose exec: cannot run docker: ${err.message}`)),
    );
    child.on('close', (code, signal) => resolvePromise(code ?? (signal ? 128 : 1)));
  });
}

// ---------------------------------------------------------------------------------------------------------
// The PostgreSQL stand-in (postgres:* where the image cannot be had and Debian's server is installed)

function stateDir(project) {
  const key = createHash('sha256').update(project.dir).digest('hex').slice(0, 12);
  return join(tmpdir(), `planner-compose-${project.name}-${key}`);
}

function postgresStandIn(project, service) {
  if (!isPostgresImage(service.image)) return { available: false };
  const found = findPostgres();
  if (!found)
    return {
      available: false,
      why: 'no PostgreSQL server is installed here to stand in for it (apt-get install postgresql)',
    };
  const env = service.environment;
  const port = service.ports[0]?.port ?? (env.PGPORT ? Number(env.PGPORT) : 5432);
  return {
    available: true,
    ...found,
    port,
    async start(out) {
      // The project's state directory is traversable; the cluster's own directory belongs to its owner.
      mkdirSync(stateDir(project), { recursive: true, mode: 0o755 });
      let state;
      try {
        state = await startPostgres({
          name: service.name,
          dir: join(stateDir(project), service.name),
          port,
          env,
          found,
        });
      } catch (err) {
        if (err instanceof LocalServerError) throw new ComposeError(`docker compose up: ${err.message}`);
        throw err;
      }
      out.say(
        `started ${service.name} (PostgreSQL ${found.version} of this machine on 127.0.0.1:${port}, user ${state.user}, database ${state.database})`,
      );
      return stubFromState(project, service, state);
    },
  };
}

/** What up, ps, logs and down know of a running PostgreSQL stand-in, from its state file. */
function stubFromState(project, service, state) {
  const server = fromState(state);
  return {
    description: server.description,
    status: () => (server.running() ? 'running (stand-in)' : 'stopped (stand-in)'),
    lastLines: server.lastLines,
    /** The service's own healthcheck, run on this machine with the cluster's socket and port. */
    async wait(condition, deadline) {
      if (condition === 'service_completed_successfully')
        return { ok: false, why: 'a database server does not complete' };
      for (;;) {
        if (!server.running()) return { ok: false, why: 'the PostgreSQL stand-in is not running' };
        const hc = service.healthcheck;
        if (condition !== 'service_healthy' || !hc || hc.disabled) return { ok: true };
        const env = server.healthEnv();
        const r = hc.exec
          ? await run(hc.exec[0], hc.exec.slice(1), { env })
          : await run('sh', ['-c', hc.shell], { env });
        if (r.code === 0) return { ok: true, healthy: true };
        if (Date.now() > deadline)
          return { ok: false, why: `its healthcheck still fails: ${quote(r.output.trim())}` };
        await sleep(500);
      }
    },
    async stop(removeData) {
      try {
        await server.stop(removeData);
      } catch (err) {
        if (err instanceof LocalServerError)
          throw new ComposeError(`docker compose down: ${service.name}: ${err.message}`);
        throw err;
      }
    },
  };
}

async function loadStubs(project) {
  const stubs = new Map();
  for (const service of Object.values(project.services)) {
    const file = join(stateDir(project), service.name, 'stand-in.json');
    if (!existsSync(file)) continue;
    stubs.set(service.name, stubFromState(project, service, JSON.parse(readFileSync(file, 'utf8'))));
  }
  return stubs;
}

// ---------------------------------------------------------------------------------------------------------
// Entry

/** Runs `docker compose <argv>`; resolves the exit code. */
export async function main(
  argv,
  { cwd = process.cwd(), env = process.env, out = makeOutput(), write = (s) => process.stdout.write(s) } = {},
) {
  try {
    const cli = parseCommandLine(argv);
    const project = loadProject({ files: cli.files, projectName: cli.projectName, cwd, env });
    const opts = { ...cli.options, services: cli.services, service: cli.service, args: cli.args };
    switch (cli.command) {
      case 'up':
        await up(project, opts, out);
        return 0;
      case 'down':
        await down(project, opts, out);
        return 0;
      case 'ps':
        await ps(project, opts, out, write);
        return 0;
      case 'logs':
        await logs(project, opts, out);
        return 0;
      case 'exec':
        return await exec(project, opts, out);
      default:
        throw new ComposeError(`docker compose: subcommand ${quote(cli.command)} is not supported`);
    }
  } catch (err) {
    out.end();
    if (err instanceof ComposeError) {
      out.say(err.message);
      if (/is not supported by the compose stand-in/.test(err.message)) {
        out.say(
          'For all of docker compose, install the Docker Compose plugin: https://docs.docker.com/compose/install/linux/',
        );
      }
      return 1;
    }
    throw err;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}

import { logUntrusted } from './untrusted-text.js';

export interface AnnotationProperties {
  title?: string;
  file?: string;
  startLine?: number;
}

/**
 * What packages log through. Packages never import action-kit or @actions/core: the actions hand them action-kit's
 * `coreLogger`, the CLI a terminal logger, tests `NullLogger` or a `MemoryLogger`.
 */
export interface Logger {
  info(message: string): void;
  warning(message: string, properties?: AnnotationProperties): void;
  error(message: string, properties?: AnnotationProperties): void;
  debug(message: string): void;
  /** Runs `fn` inside a collapsible group; the group closes even when `fn` throws. */
  group<T>(name: string, fn: () => Promise<T>): Promise<T>;
  /**
   * One line of a stream we do not control (a workload's log, command output), printed as it is but never
   * read as a runner command: action-kit's logger fences it with stop-commands. Optional; call it through
   * `logUntrusted(logger, line)`, which caps and defuses the line for a logger without it.
   */
  untrusted?(line: string): void;
}

/** Discards everything. */
export const NullLogger: Logger = {
  info: () => undefined,
  warning: () => undefined,
  error: () => undefined,
  debug: () => undefined,
  group: (_name, fn) => fn(),
  untrusted: () => undefined,
};

export interface LogEntry {
  level: 'info' | 'warning' | 'error' | 'debug' | 'group';
  message: string;
  properties?: AnnotationProperties;
}

/** Keeps every line, for tests of packages. */
export class MemoryLogger implements Logger {
  readonly entries: LogEntry[] = [];
  info(message: string): void {
    this.entries.push({ level: 'info', message });
  }
  warning(message: string, properties?: AnnotationProperties): void {
    this.entries.push({ level: 'warning', message, ...(properties ? { properties } : {}) });
  }
  error(message: string, properties?: AnnotationProperties): void {
    this.entries.push({ level: 'error', message, ...(properties ? { properties } : {}) });
  }
  debug(message: string): void {
    this.entries.push({ level: 'debug', message });
  }
  /** Kept as an info line, as it came. */
  untrusted(line: string): void {
    this.entries.push({ level: 'info', message: line });
  }
  async group<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.entries.push({ level: 'group', message: name });
    return fn();
  }
  text(): string {
    return this.entries.map((e) => e.message).join('\n');
  }
}

/** Prefixes every line (e.g. with a deployment name when several run at once). */
export function prefixedLogger(logger: Logger, prefix: string): Logger {
  return {
    info: (m) => logger.info(`${prefix}${m}`),
    warning: (m, p) => logger.warning(`${prefix}${m}`, p),
    error: (m, p) => logger.error(`${prefix}${m}`, p),
    debug: (m) => logger.debug(`${prefix}${m}`),
    group: (name, fn) => logger.group(`${prefix}${name}`, fn),
    untrusted: (line) => logUntrusted(logger, `${prefix}${line}`),
  };
}

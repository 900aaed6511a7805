/**
 * Container log lines, per pod and container and per run (a restart starts a new run; the previous run is
 * what `previous=true` reads). The simulated kubelet appends; the server's `pods/x/log` reads and follows.
 */

export interface LogLine {
  /** When the line was written, on the sandbox clock. */
  time: Date;
  text: string;
}

export interface ContainerRun {
  lines: LogLine[];
  /** The run terminated: a follow stream ends after its last line. */
  ended: boolean;
}

export type LogEvent = { type: 'line'; line: LogLine } | { type: 'end' } | { type: 'restart' };

interface ContainerLog {
  runs: ContainerRun[];
  followers: Set<(ev: LogEvent) => void>;
}

export interface PodLogsOptions {
  now?: () => Date;
  /** Lines kept per run (oldest dropped first). Default 10000. */
  maxLinesPerRun?: number;
}

export class PodLogs {
  private readonly containers = new Map<string, ContainerLog>();
  private readonly now: () => Date;
  private readonly maxLines: number;

  constructor(options: PodLogsOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.maxLines = options.maxLinesPerRun ?? 10000;
  }

  /** Appends a line (without trailing newline) to the container's current run. */
  append(namespace: string, pod: string, container: string, line: string): void {
    const log = this.log(namespace, pod, container);
    let run = log.runs[log.runs.length - 1];
    if (!run || run.ended) {
      // Output after termination without a restart: treat as a new run so followers are not confused.
      run = { lines: [], ended: false };
      log.runs.push(run);
    }
    const entry: LogLine = { time: this.now(), text: line };
    run.lines.push(entry);
    if (run.lines.length > this.maxLines) run.lines.splice(0, run.lines.length - this.maxLines);
    for (const f of [...log.followers]) f({ type: 'line', line: entry });
  }

  /** A (re)start of the container: the run before becomes the one `previous=true` reads. */
  startContainer(namespace: string, pod: string, container: string): void {
    const log = this.log(namespace, pod, container);
    const current = log.runs[log.runs.length - 1];
    if (current && !current.ended) {
      current.ended = true;
      for (const f of [...log.followers]) f({ type: 'end' });
    }
    log.runs.push({ lines: [], ended: false });
    if (log.runs.length > 2) log.runs.splice(0, log.runs.length - 2);
    for (const f of [...log.followers]) f({ type: 'restart' });
  }

  /** The current run terminated. */
  endContainer(namespace: string, pod: string, container: string): void {
    const log = this.log(namespace, pod, container);
    const current = log.runs[log.runs.length - 1];
    if (!current) {
      log.runs.push({ lines: [], ended: true });
    } else if (!current.ended) {
      current.ended = true;
    } else return;
    for (const f of [...log.followers]) f({ type: 'end' });
  }

  /** The current run (or the previous one), or undefined when there is none. */
  run(namespace: string, pod: string, container: string, previous = false): ContainerRun | undefined {
    const log = this.containers.get(this.key(namespace, pod, container));
    if (!log) return undefined;
    const runs = log.runs;
    const r = previous ? runs[runs.length - 2] : runs[runs.length - 1];
    return r ? { lines: [...r.lines], ended: r.ended } : undefined;
  }

  /** Lines appended and run ends from now on; returns the unsubscribe function. */
  follow(namespace: string, pod: string, container: string, listener: (ev: LogEvent) => void): () => void {
    const log = this.log(namespace, pod, container);
    log.followers.add(listener);
    return () => log.followers.delete(listener);
  }

  /** Forgets a deleted pod's logs. */
  removePod(namespace: string, pod: string): void {
    const prefix = `${namespace}/${pod}/`;
    for (const [k, log] of this.containers) {
      if (!k.startsWith(prefix)) continue;
      for (const f of [...log.followers]) f({ type: 'end' });
      this.containers.delete(k);
    }
  }

  private log(namespace: string, pod: string, container: string): ContainerLog {
    const k = this.key(namespace, pod, container);
    let log = this.containers.get(k);
    if (!log) {
      log = { runs: [], followers: new Set() };
      this.containers.set(k, log);
    }
    return log;
  }

  private key(namespace: string, pod: string, container: string): string {
    return `${namespace}/${pod}/${container}`;
  }
}

import { stripTerminalControls, type Logger } from '@planner-deploy/core';

/** What the UI writes to: process.stdout/stderr, or fakes in tests. */
export interface UiStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface UiOptions {
  stdout: UiStream;
  stderr: UiStream;
  env: Record<string, string | undefined>;
  /** `--json`: stdout carries one JSON document; everything human goes to stderr. */
  json: boolean;
  verbose: boolean;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 80;

/**
 * Colours follow the usual conventions: FORCE_COLOR (anything but 0/false) turns them on even when piped,
 * NO_COLOR (non-empty) turns them off, otherwise they follow whether the stream is a terminal.
 */
export function colourEnabled(env: Record<string, string | undefined>, isTTY: boolean): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return !(force === '0' || force.toLowerCase() === 'false');
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTTY && env.TERM !== 'dumb';
}

type Paint = (text: string) => string;
const sgr =
  (open: number, close: number): Paint =>
  (text) =>
    `\u001b[${open}m${text}\u001b[${close}m`;

/**
 * The terminal side of the CLI. On a terminal, waits show a spinner line redrawn in place (`\r` + clear
 * line) that every other line clears first; elsewhere each state change is one plain line. With `--json`
 * the human output moves to stderr, so stdout holds nothing but the final document.
 */
export class Ui {
  readonly out: UiStream;
  readonly err: UiStream;
  readonly live: boolean;
  readonly colour: boolean;
  readonly json: boolean;
  readonly verbose: boolean;
  readonly green: Paint;
  readonly red: Paint;
  readonly yellow: Paint;
  readonly dim: Paint;
  readonly bold: Paint;
  private spinnerText: string | undefined;
  private lastPlain: string | undefined;
  private frame = 0;
  private timer: NodeJS.Timeout | undefined;
  private spinnerStarted = 0;
  private muted = false;

  constructor(private readonly options: UiOptions) {
    this.json = options.json;
    this.verbose = options.verbose;
    this.out = options.json ? options.stderr : options.stdout;
    this.err = options.stderr;
    this.live = Boolean(this.out.isTTY) && options.env.TERM !== 'dumb';
    this.colour = colourEnabled(options.env, Boolean(this.out.isTTY));
    const paint = (open: number, close: number): Paint => (this.colour ? sgr(open, close) : (t) => t);
    this.green = paint(32, 39);
    this.red = paint(31, 39);
    this.yellow = paint(33, 39);
    this.dim = paint(2, 22);
    this.bold = paint(1, 22);
  }

  /** A line of human output. */
  line(text = ''): void {
    this.clearSpinner();
    this.emit(this.out, `${text}\n`);
    this.redraw();
  }

  /** A step that succeeded. */
  ok(text: string): void {
    this.line(`${this.green('✔')} ${text}`);
  }

  /** Something worth attention that does not fail the command. */
  warn(text: string): void {
    this.clearSpinner();
    this.emit(this.err, `${this.yellow('warning:')} ${text}\n`);
    this.redraw();
  }

  /** What failed (always on stderr). */
  error(text: string): void {
    this.clearSpinner();
    this.emit(this.err, `${this.red('error:')} ${text}\n`);
    this.redraw();
  }

  /** Details shown with --verbose only. */
  debug(text: string): void {
    if (this.verbose) this.line(this.dim(text));
  }

  /**
   * The state of a wait. On a terminal: the spinner line shows it (started on first call); elsewhere: a
   * plain line each time it changes.
   */
  progress(text: string): void {
    if (!this.live) {
      if (text !== this.lastPlain) {
        this.lastPlain = text;
        this.emit(this.out, `  ${text}\n`);
      }
      return;
    }
    if (this.spinnerText === undefined) this.spinnerStarted = Date.now();
    this.spinnerText = text;
    if (!this.timer) {
      this.timer = setInterval(() => {
        this.frame = (this.frame + 1) % FRAMES.length;
        this.redraw();
      }, FRAME_MS);
      this.timer.unref();
    }
    this.redraw();
  }

  /** Ends the current wait's spinner (nothing is printed in its place). */
  stopProgress(): void {
    this.clearSpinner();
    this.spinnerText = undefined;
    this.lastPlain = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The logger the packages log through: info is a dim detail line, debug only with --verbose. */
  logger(options: { quietInfo?: boolean } = {}): Logger {
    return {
      info: (message) => {
        if (options.quietInfo) this.debug(message);
        else this.line(this.dim(message));
      },
      warning: (message) => this.warn(message),
      error: (message) => this.error(message),
      debug: (message) => this.debug(message),
      group: (_name, fn) => fn(),
      untrusted: (line) => this.line(stripTerminalControls(line)),
    };
  }

  /** The one JSON document of --json. */
  document(value: unknown): void {
    this.options.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** After Ctrl-C: the interrupt message is the last thing printed. */
  mute(): void {
    this.stopProgress();
    this.muted = true;
  }

  private emit(stream: UiStream, text: string): void {
    if (!this.muted) stream.write(text);
  }

  private clearSpinner(): void {
    if (this.live && this.spinnerText !== undefined) this.emit(this.out, '\r\u001b[2K');
  }

  private redraw(): void {
    if (!this.live || this.spinnerText === undefined) return;
    const seconds = Math.floor((Date.now() - this.spinnerStarted) / 1000);
    const width = Math.max(20, (this.out.columns || 100) - 12);
    const text =
      this.spinnerText.length > width ? `${this.spinnerText.slice(0, width - 1)}…` : this.spinnerText;
    this.emit(
      this.out,
      `\r\u001b[2K${this.yellow(FRAMES[this.frame] ?? '')} ${text} ${this.dim(`${seconds}s`)}`,
    );
  }
}

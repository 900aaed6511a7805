// `pnpm bench` rows for the cost of hostile output: a 64 MiB line without a newline, arriving in 64 KiB
// chunks of bytes as from a socket, through core's LineSplitter and action-kit's stream printer (stop-commands
// fence, per-line cap), beside node:readline on the same input (which keeps the whole line). Before issue
// #12 a 16 MiB line took 13.6 s and a 64 MiB one 138 s (the pending text was searched again at every chunk).
// Prints one JSON row per line on stdout.
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { LineSplitter, printUntrusted } from '@planner-deploy/action-kit';

const TOTAL = 64 * 1024 * 1024;
const CHUNK = 64 * 1024;
const RUNS = Number(process.env.BENCH_UNTRUSTED_RUNS ?? 5);
const chunk = Buffer.from('x'.repeat(CHUNK));

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

/** Ours: split and print, stdout swapped for a counting sink during the run (the rows go to the real one). */
function ours(): { ms: number; printed: number } {
  let printed = 0;
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (text: string) => {
    printed += text.length;
    return true;
  };
  const started = performance.now();
  try {
    // Bytes decoded as the Kubernetes transport and the docker runner decode them.
    const decoder = new TextDecoder('utf-8');
    const splitter = new LineSplitter();
    for (let sent = 0; sent < TOTAL; sent += CHUNK) {
      for (const line of splitter.push(decoder.decode(chunk, { stream: true }))) printUntrusted(line);
    }
    for (const line of splitter.end()) printUntrusted(line);
  } finally {
    process.stdout.write = write;
  }
  return { ms: performance.now() - started, printed };
}

async function readline(): Promise<number> {
  let sent = 0;
  const source = new Readable({
    read() {
      if (sent >= TOTAL) this.push(null);
      else {
        sent += CHUNK;
        this.push(chunk);
      }
    },
  });
  const started = performance.now();
  let length = 0;
  for await (const line of createInterface({ input: source, crlfDelay: Infinity })) length += line.length;
  if (length !== TOTAL) throw new Error(`readline saw ${length} characters`);
  return performance.now() - started;
}

const oursMs: number[] = [];
const theirsMs: number[] = [];
let printed = 0;
for (let i = 0; i < RUNS; i++) {
  const run = ours();
  oursMs.push(run.ms);
  printed = run.printed;
  theirsMs.push(await readline());
}
console.log(
  JSON.stringify({
    what: 'a 64 MiB line without a newline: line splitter + stream printer',
    ours: median(oursMs),
    theirs: median(theirsMs),
    theirsLabel: 'node:readline (keeps the whole line)',
    budget: 1000,
    unit: 'ms',
    note: `${printed} characters printed for the 64 MiB line (its first 4096 characters and the count of the rest, inside the stop-commands fence); before issue #12 this line took 138 s`,
  }),
);

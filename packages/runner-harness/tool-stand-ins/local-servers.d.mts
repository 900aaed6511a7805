// Declarations of local-servers.mjs (plain JavaScript, shared with the compose stand-in) for
// src/workflow/services.ts.

export class LocalServerError extends Error {}
export function quote(value: unknown): string;
export function defuse(line: string): string;
export function isPostgresImage(image: string): boolean;
export function isRedisImage(image: string): boolean;
export function findPostgres(): { version: string; bin: string } | undefined;
export function findRedis(): { bin: string; server: string; cli: string } | undefined;
export function portFree(port: number): Promise<boolean>;
export function run(
  cmd: string,
  args: string[],
  options?: { env?: Record<string, string>; input?: string; timeoutMs?: number },
): Promise<{ code: number | null; output: string }>;

export interface PostgresState {
  kind: 'postgres';
  bin: string;
  version: string;
  port: number;
  data: string;
  log: string;
  socketDir: string;
  user: string;
  database: string;
}
export interface RedisState {
  kind: 'redis';
  bin: string;
  cli: string;
  pid: number;
  port: number;
  log: string;
  dir: string;
}
export function startPostgres(options: {
  name: string;
  dir: string;
  port: number;
  env?: Record<string, string>;
  found?: { version: string; bin: string };
}): Promise<PostgresState>;
export function startRedis(options: {
  name: string;
  dir: string;
  port: number;
  found?: { bin: string; server: string; cli: string };
}): Promise<RedisState>;

export interface LocalServer {
  description: string;
  running(): boolean;
  lastLines(count: number): string[];
  healthEnv(): Record<string, string>;
  stop(removeData: boolean): Promise<void>;
  stopNow(): void;
}
export function fromState(state: PostgresState | RedisState): LocalServer;

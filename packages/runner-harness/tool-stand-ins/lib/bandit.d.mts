// Types of bandit.mjs for the tests (the shims are plain JS so that they run with any node on the PATH).
export function parseBanditArgs(args: string[]): {
  format: string;
  output: string | undefined;
  exitZero: boolean;
  rest: string[];
};
export function formattersOf(helpText: string): string[];
export interface Sarif {
  version: string;
  $schema: string;
  runs: Array<{
    tool: {
      driver: {
        name: string;
        version?: string;
        rules: Array<{ id: string; name: string; helpUri?: string }>;
      };
    };
    invocations: Array<{
      executionSuccessful: boolean;
      toolExecutionNotifications: Array<{ level: string; message: { text: string } }>;
    }>;
    results: Array<{
      ruleId: string;
      level: string;
      message: { text: string };
      locations: Array<{
        physicalLocation: {
          artifactLocation: { uri: string };
          region: { startLine: number; endLine?: number; startColumn?: number };
        };
      }>;
    }>;
  }>;
}
export function sarifFromBanditJson(
  report: unknown,
  options?: { version?: string; cwd?: string; note?: string },
): Sarif;
export function notRunReport(format: string, reason: string): string;
export function main(args: string[]): number;

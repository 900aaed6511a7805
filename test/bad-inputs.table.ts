/**
 * The bad-input table: for every input of every action (as action.yml declares it), values that must
 * make the step fail with exit code 1, an error naming the input and showing the value, before any
 * request that changes anything. test/bad-inputs.test.ts runs every row against the sandbox and fails
 * when an action.yml input has no row here, or a row names an input that no longer exists.
 */

export interface BadValue {
  /** The invalid value given to the input. */
  value: string;
  /** Other inputs this row needs on top of the action's base (e.g. '' to unset one). */
  with?: Record<string, string>;
  /** The part of the value the message shows, when it is not the whole (e.g. the bad key of a line). */
  shows?: string;
  /**
   * Why the message must not show the value (it may be a credential). The test then checks the value is
   * absent from everything the run shows, instead of present in the error.
   */
  hidden?: string;
}

/** Rows for one input: bad values, or `free text: <why no value is invalid>`. */
export type InputRows = BadValue[] | `free text: ${string}`;

export interface ActionTable {
  /** Valid inputs that get the action as far as reading the input under test. */
  base: Record<string, string>;
  inputs: Record<string, InputRows>;
}

const CREDENTIAL = 'it may be a credential: the message names the input and never echoes the value';
const NOT_A_KUBECONFIG = Buffer.from('not-a-kubeconfig-but-a-secret-value').toString('base64');
const LONG = (n: number, ch = 'x'): string => ch.repeat(n);

/** The connection inputs the three Kubernetes actions share (packages/kube/connection-inputs.ts). */
const KUBE_CONNECTION: Record<string, InputRows> = {
  'cluster-name': [{ value: '-bad cluster' }, { value: LONG(101, 'c') }],
  region: [{ value: 'moon-1' }, { value: 'US-EAST-1' }],
  kubeconfig: [{ value: NOT_A_KUBECONFIG, hidden: CREDENTIAL }],
  context: [{ value: 'no-such-context' }],
  namespace: [{ value: 'Planner_Staging' }, { value: LONG(64, 'n') }],
};

export const BAD_INPUTS: Record<string, ActionTable> = {
  'auto-rollback': {
    base: { namespace: 'planner-staging', deployments: 'planner-app' },
    inputs: {
      ...KUBE_CONNECTION,
      deployments: [
        { value: 'Planner_App' },
        { value: 'planner-app,planner-app', shows: 'planner-app' },
        { value: LONG(254, 'd') },
      ],
      'to-revision': [
        { value: 'previous' },
        { value: '{"worker":3}' },
        { value: '2', with: { deployments: 'planner-app\nplanner-worker' } },
      ],
      reason: 'free text: any words are a valid reason; it is only shown in the log and the summary',
      'snapshot-identifier': [{ value: '1-starts-with-a-digit' }, { value: `s${LONG(255, 's')}` }],
      force: [{ value: 'yes' }],
      wait: [{ value: 'maybe' }],
      timeout: [{ value: 'soon' }, { value: '500ms' }],
      'ready-grace': [{ value: '2 hours' }, { value: '2h' }],
    },
  },

  'build-push': {
    base: { repository: 'planner-app' },
    inputs: {
      repository: [{ value: 'Planner App!' }, { value: LONG(257, 'r') }],
      registry: [{ value: '12345' }, { value: 'registry.example.com/planner' }],
      region: [{ value: 'moon-1' }],
      'create-repository': [{ value: 'sometimes' }],
      context: [{ value: 'no/such/context-dir' }],
      file: [{ value: 'no-such.Dockerfile' }],
      target: [{ value: 'bad target!' }],
      'build-args': [{ value: '1BAD=x', shows: '1BAD' }],
      secrets: [
        { value: 'no-equals-sign-secret-value', hidden: CREDENTIAL },
        { value: 'bad id!=some-secret-value', hidden: CREDENTIAL },
      ],
      platforms: [{ value: 'linux/sparc' }],
      tags: [{ value: 'bad tag!' }, { value: LONG(129, 't') }],
      environment: [{ value: '-production' }],
      push: [{ value: 'maybe' }],
      'skip-if-exists': [{ value: 'sometimes' }],
      cache: [{ value: 's3' }],
      labels: [{ value: '-bad.key=x', shows: '-bad.key' }],
      'buildx-version': [{ value: 'latest' }],
      sha: [{ value: 'abc1234' }, { value: 'main' }],
    },
  },

  'create-release': {
    base: { tag: 'v1.1.0' },
    inputs: {
      token: [{ value: 'ghs_token with spaces inside', hidden: CREDENTIAL }],
      tag: [{ value: 'v1..0' }, { value: 'refs/tags/v1.1.0' }],
      name: [{ value: 'Release v1.1.0\nsecond line' }],
      body: [{ value: LONG(100_001, 'b') }],
      'generate-notes': [{ value: 'yes' }],
      'previous-tag': [{ value: 'v1.1.0' }, { value: 'v1.0.0~1' }],
      prerelease: [{ value: 'maybe' }],
      draft: [{ value: 'maybe' }],
      'make-latest': [{ value: 'always' }],
      environment: [{ value: LONG(256, 'e') }],
      'environment-url': [{ value: 'ftp://planner.example.com' }, { value: 'planner.example.com' }],
      image: [
        { value: 'Planner App:v1' },
        // Past the distribution limits: a name over 255, a tag over 128, a 100 KB reference.
        { value: `registry.example.com/${LONG(251, 'a')}:v1` },
        { value: `registry.example.com/planner-app:${LONG(129, 't')}` },
        { value: `registry.example.com/${LONG(100_000, 'a')}` },
      ],
      'snapshot-identifier': [{ value: '1-starts-with-a-digit' }, { value: `s${LONG(255, 's')}` }],
      timeout: [{ value: '5 parsecs' }, { value: '7h' }],
    },
  },

  'rds-backup': {
    base: { 'db-instance-identifier': 'planner-staging-db' },
    inputs: {
      'db-instance-identifier': [
        { value: '1-starts-with-a-digit' },
        { value: 'double--hyphen' },
        { value: `d${LONG(63, 'b')}` },
      ],
      'db-cluster-identifier': [
        { value: 'trailing-hyphen-', with: { 'db-instance-identifier': '' } },
        { value: `c${LONG(63, 'l')}`, with: { 'db-instance-identifier': '' } },
      ],
      'snapshot-identifier': [{ value: '9-lives' }, { value: `s${LONG(255, 'n')}` }],
      'snapshot-prefix': [{ value: 'Bad_Prefix' }, { value: LONG(31, 'p') }],
      tags: [{ value: 'no-equals-sign' }],
      wait: [{ value: 'maybe' }],
      timeout: [{ value: '7h' }, { value: 'half an hour' }],
      'poll-interval': [{ value: '1ms' }],
      retain: [{ value: '0' }, { value: 'all' }],
      region: [{ value: 'moon-1' }],
    },
  },

  rollout: {
    base: {
      namespace: 'planner-staging',
      deployments: 'planner-app',
      image: 'registry.example.com/planner-app:v2.0.0',
    },
    inputs: {
      ...KUBE_CONNECTION,
      deployments: [{ value: 'Planner_App' }, { value: LONG(254, 'd') }],
      image: [
        { value: 'Registry Example/planner app' },
        { value: `registry.example.com/${LONG(251, 'a')}:v1` },
        { value: `registry.example.com/planner-app:${LONG(129, 't')}` },
        { value: `registry.example.com/${LONG(100_000, 'a')}` },
      ],
      images: [
        { value: 'planner-app', with: { image: '' } },
        { value: 'Planner_App=registry.example.com/planner-app:v2', with: { image: '' } },
        { value: `app=registry.example.com/${LONG(100_000, 'a')}`, with: { image: '' } },
      ],
      container: [{ value: 'Planner_App' }, { value: LONG(64, 'c') }],
      restart: [{ value: 'yes' }],
      replicas: [{ value: '-1' }, { value: 'three' }],
      'change-cause': [{ value: LONG(1025, 'c') }],
      wait: [{ value: 'maybe' }],
      timeout: [{ value: '500ms' }, { value: 'ten minutes' }],
      'fail-fast': [{ value: 'maybe' }],
      'ready-grace': [{ value: '2h' }],
    },
  },

  'run-migration-job': {
    base: {
      namespace: 'planner-staging',
      deployment: 'planner-app',
      image: 'registry.example.com/planner-app:v2.0.0',
    },
    inputs: {
      ...KUBE_CONNECTION,
      deployment: [{ value: 'Planner_App' }, { value: LONG(254, 'd') }],
      container: [{ value: 'Planner_App' }, { value: LONG(64, 'c') }],
      image: [
        { value: 'Registry Example/planner app' },
        { value: `registry.example.com/${LONG(251, 'a')}:v1` },
        { value: `registry.example.com/${LONG(100_000, 'a')}` },
      ],
      command: [{ value: 'alembic "upgrade head' }],
      args: [{ value: "upgrade 'head" }],
      'job-name': [{ value: 'Planner_Migrate' }, { value: LONG(64, 'j') }],
      'backoff-limit': [{ value: '21' }, { value: 'none' }],
      timeout: [{ value: '25h' }],
      'ttl-seconds-after-finished': [{ value: '-5' }],
      'delete-on-cancel': [{ value: 'maybe' }],
      'log-tail-lines': [{ value: 'many' }, { value: '1001' }],
    },
  },

  'verify-health': {
    base: { urls: 'http://127.0.0.1:9/health' },
    inputs: {
      urls: [{ value: 'ftp://planner.example.com/health' }, { value: 'planner.example.com/health' }],
      method: [{ value: 'FETCH' }],
      headers: [
        {
          value: 'Authorization Bearer verify-health-secret-token',
          hidden: 'a header line may hold a credential: the message gives its line number only',
        },
      ],
      'secret-headers': [{ value: 'X-Set-Nowhere' }],
      'expected-status': [{ value: 'ok' }, { value: '200-' }],
      'expected-body':
        'free text: any text can be in a body the app answers (with method HEAD no body check is allowed at all, whatever the text)',
      'expected-body-regex': [{ value: '(unclosed' }],
      'expected-json': [{ value: 'version' }, { value: 'a..b=1' }],
      'initial-delay': [{ value: '10m' }, { value: 'later' }],
      interval: [{ value: '1ms' }],
      'request-timeout': [{ value: 'forever' }],
      timeout: [{ value: '7h' }],
      'consecutive-successes': [{ value: '0' }, { value: '101' }],
      'smoke-tests': [{ value: 'no-such-smoke-tests.yml' }],
      'follow-redirects': [{ value: 'maybe' }],
      insecure: [{ value: 'maybe' }],
    },
  },
};

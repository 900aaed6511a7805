/** The kubeconfig a client needs for the sandbox: cluster "sandbox", user "sandbox" (bearer token), context "sandbox". */

export interface KubeconfigParams {
  server: string;
  token: string;
  caPem?: string;
  namespace?: string;
}

const q = (s: string): string => JSON.stringify(s); // a JSON string is a valid YAML scalar

export function kubeconfigYaml(p: KubeconfigParams): string {
  const cluster = [`    server: ${q(p.server)}`];
  if (p.caPem) cluster.push(`    certificate-authority-data: ${Buffer.from(p.caPem).toString('base64')}`);
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: sandbox',
    '  cluster:',
    ...cluster,
    'users:',
    '- name: sandbox',
    '  user:',
    `    token: ${q(p.token)}`,
    'contexts:',
    '- name: sandbox',
    '  context:',
    '    cluster: sandbox',
    '    user: sandbox',
    `    namespace: ${q(p.namespace ?? 'default')}`,
    'current-context: sandbox',
    'preferences: {}',
    '',
  ].join('\n');
}

import { describe, expect, it } from '@jest/globals';
import { redactUrl, urlCredentials, withoutCredentials } from '../src/url-credentials.js';

describe('urlCredentials and redactUrl', () => {
  const rows: Array<[string, string[], string]> = [
    // [URL or URL-like text, secrets to mask (besides the Basic token), shown as]
    ['https://ghp_token123456@github.example/o/r', ['ghp_token123456'], 'https://***@github.example/o/r'],
    [
      'https://deployer:s3cr%40t@host.example/x',
      ['s3cr%40t', 's3cr@t'],
      'https://deployer:***@host.example/x',
    ],
    ['https://host.example/health', [], 'https://host.example/health'],
    // Does not parse (a space in the host): found by pattern, the password up to the last @.
    ['https://user:p@ss word@bad host/x', ['p@ss word'], 'https://user:***@bad host/x'],
    ['http://only-token-0000@bad host', ['only-token-0000'], 'http://***@bad host'],
    ['no scheme user:pw@host', [], 'no scheme user:pw@host'],
  ];
  it.each(rows)('%s', (text, secrets, shown) => {
    let parsed: URL | undefined;
    try {
      parsed = new URL(text);
    } catch {
      parsed = undefined;
    }
    for (const value of [text, ...(parsed ? [parsed] : [])]) {
      const found = urlCredentials(value);
      expect(found).toEqual(expect.arrayContaining(secrets));
      if (secrets.length === 0) expect(found).toEqual([]);
      expect(redactUrl(value)).toBe(shown);
    }
  });

  it('includes the Basic token Node sends for the credentials', () => {
    expect(urlCredentials(new URL('https://tok123456@h.example/'))).toContain(
      Buffer.from('tok123456:').toString('base64'),
    );
  });

  it('removes credentials entirely for a link', () => {
    expect(withoutCredentials(new URL('https://a:b@h.example/p?q=1')).href).toBe('https://h.example/p?q=1');
  });
});

import { describe, expect, it } from '@jest/globals';
import { addressClass, redirectRefusal, resolveHost, type AddressClass } from '../../src/address-policy.js';

describe('addressClass', () => {
  const rows: Array<[string, AddressClass]> = [
    ['127.0.0.1', 'loopback'],
    ['127.255.1.2', 'loopback'],
    ['0.0.0.0', 'loopback'],
    ['::1', 'loopback'],
    ['::', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fd00::1', 'private'],
    ['fc00::1', 'private'],
    ['::ffff:10.0.0.1', 'private'],
    ['172.32.0.1', 'public'],
    ['172.15.255.255', 'public'],
    ['8.8.8.8', 'public'],
    ['2606:4700::1111', 'public'],
    ['fec0::1', 'public'],
  ];
  it.each(rows)('%s is %s', (address, expected) => {
    expect(addressClass(address)).toBe(expected);
  });
});

describe('redirectRefusal', () => {
  const at = (address: string) => [{ address, family: address.includes(':') ? 6 : 4 } as const];
  it('refuses an internal target from a public start, naming the address and its class', () => {
    expect(redirectRefusal(new Set(['public']), at('169.254.169.254'))).toEqual({
      address: '169.254.169.254',
      class: 'link-local',
    });
    expect(redirectRefusal(new Set(['public']), at('127.0.0.1'))?.class).toBe('loopback');
    expect(redirectRefusal(new Set(['public']), at('10.0.0.8'))?.class).toBe('private');
  });
  it('allows a public target, and an internal one of the class the start was on', () => {
    expect(redirectRefusal(new Set(['public']), at('8.8.4.4'))).toBeUndefined();
    expect(redirectRefusal(new Set(['loopback']), at('::1'))).toBeUndefined();
    expect(redirectRefusal(new Set(['private']), at('192.168.0.9'))).toBeUndefined();
  });
  it('refuses the metadata address from a private or loopback start', () => {
    expect(redirectRefusal(new Set(['private']), at('169.254.169.254'))?.class).toBe('link-local');
    expect(redirectRefusal(new Set(['loopback']), at('169.254.169.254'))?.class).toBe('link-local');
  });
  it('judges every address a name resolves to', () => {
    const both = [
      { address: '8.8.8.8', family: 4 as const },
      { address: '169.254.169.254', family: 4 as const },
    ];
    expect(redirectRefusal(new Set(['public']), both)?.address).toBe('169.254.169.254');
  });
});

describe('resolveHost', () => {
  it('takes IP literals as they are and resolves names through the system resolver', async () => {
    expect(await resolveHost(new URL('http://[::ffff:169.254.169.254]/'))).toEqual([
      { address: '::ffff:a9fe:a9fe', family: 6 },
    ]);
    const local = await resolveHost(new URL('http://localhost:1/'));
    expect(local.length).toBeGreaterThan(0);
    expect(local.every(({ address }) => addressClass(address) === 'loopback')).toBe(true);
  });
});

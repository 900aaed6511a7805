/**
 * Credentials written into URLs (`https://TOKEN@host/…`, `https://user:password@host/…`): what to mask and
 * how to show the URL without them. Works on text that does not parse as a URL too, because an input that
 * fails to parse is quoted in its error message, and a password in it must not be.
 */

// The userinfo of `scheme://userinfo@host…`: everything between `//` and the last `@` before the path.
// WHATWG URL parsing takes the last `@` of the authority as the end of the userinfo; so do we, so a
// password containing `@` is found whole.
const AUTHORITY = /^(\s*[A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*)@/;

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The secrets a URL (or URL-like text) carries: the password as written and decoded, or, for a user alone
 * (`https://TOKEN@host`, the form GitHub and many registries use for tokens), that user; plus the Basic
 * token Node builds from them (a server that echoes the Authorization header would show it).
 */
export function urlCredentials(url: URL | string): string[] {
  let user: string;
  let password: string;
  if (typeof url === 'string') {
    const userinfo = AUTHORITY.exec(url)?.[2];
    if (userinfo === undefined) return [];
    const colon = userinfo.indexOf(':');
    user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    password = colon < 0 ? '' : userinfo.slice(colon + 1);
  } else {
    user = url.username;
    password = url.password;
  }
  if (user === '' && password === '') return [];
  const secret = password !== '' ? password : user;
  const basic = Buffer.from(`${decode(user)}:${decode(password)}`).toString('base64');
  return [...new Set([secret, decode(secret), basic])].filter((value) => value !== '');
}

/**
 * A URL for logs, summaries and outputs: credentials replaced by `***` (`https://***@host/…`,
 * `https://user:***@host/…`). Text that does not parse gets the same treatment by pattern.
 */
export function redactUrl(url: URL | string): string {
  if (typeof url === 'string') {
    return url.replace(AUTHORITY, (_all, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(':');
      return colon < 0 ? `${scheme}***@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
    });
  }
  if (url.username === '' && url.password === '') return url.href;
  const copy = new URL(url.href);
  if (copy.password !== '') copy.password = '***';
  else copy.username = '***';
  return copy.href;
}

/** The URL with no credentials at all, for a link someone will follow (a release body). */
export function withoutCredentials(url: URL): URL {
  const copy = new URL(url.href);
  copy.username = '';
  copy.password = '';
  return copy;
}

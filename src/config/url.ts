import { isIP } from 'node:net';

/**
 * Worker addresses: `host` + `port`, or a `base_url`. Both resolve to one `baseUrl` of the form
 * `scheme://host:port[/prefix]` with no trailing slash and no `/v1`, because each adapter adds
 * its own paths (`/v1/chat/completions`, `/api/chat`, `/health`, ...).
 */

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/;

/** A bare host name or IP address (IPv6 with or without brackets); no scheme, port or path. */
export function isValidHost(host: string): boolean {
  return HOSTNAME.test(host) || isIP(unbracket(host)) === 6;
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Why `raw` is not an acceptable base URL, or undefined when it is. */
export function checkBaseUrl(raw: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(raw)) return 'no scheme: start it with http:// or https://';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'scheme must be http or https';
  if (url.hostname === '') return 'no host';
  if (url.username !== '' || url.password !== '') return 'credentials belong in api_key, not the URL';
  if (url.search !== '' || url.hash !== '') return 'no query or fragment allowed';
  return undefined;
}

export interface Address {
  baseUrl: string;
  /** Without IPv6 brackets. */
  host: string;
  port: number;
}

/**
 * Splits a valid base URL into its parts. The port is the URL's own (80/443 when it names
 * none): a base URL is taken literally, never completed with the type's default port.
 */
export function addressFromBaseUrl(raw: string): Address {
  const url = new URL(raw);
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
  let path = url.pathname.replace(/\/+$/, '');
  if (path.endsWith('/v1')) path = path.slice(0, -3).replace(/\/+$/, '');
  return { baseUrl: `${url.protocol}//${url.host}${path}`, host: unbracket(url.hostname), port };
}

export function addressFromHostPort(host: string, port: number): Address {
  const bare = unbracket(host);
  const shown = isIP(bare) === 6 ? `[${bare}]` : bare;
  return { baseUrl: `http://${shown}:${port}`, host: bare, port };
}

/** Host comparison for "does host agree with base_url": case-insensitive, brackets ignored. */
export function sameHost(a: string, b: string): boolean {
  return unbracket(a).toLowerCase() === unbracket(b).toLowerCase();
}

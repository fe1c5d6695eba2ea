import { randomBytes, timingSafeEqual } from 'node:crypto';

/** Loopback addresses: binding to one of these needs no token. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Constant-time comparison of a presented token with the expected one. */
export function tokenMatches(expected: string, presented: string | undefined | null): boolean {
  if (!presented) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token of a request: `Authorization: Bearer`, the `netwho_token` cookie, or `?token=`. */
export function presentedToken(
  headers: { authorization?: string | null; cookie?: string | null },
  url: URL,
): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '');
  if (bearer) return bearer[1];
  const cookie = /(?:^|;\s*)netwho_token=([^;]+)/.exec(headers.cookie ?? '');
  if (cookie) return decodeURIComponent(cookie[1]!);
  return url.searchParams.get('token') ?? undefined;
}

/**
 * On loopback, the Host header must name a loopback host: a page on another site that resolves its
 * own name to 127.0.0.1 (DNS rebinding) cannot talk to the dashboard.
 */
export function hostAllowed(hostHeader: string | undefined | null, boundHost: string): boolean {
  if (!isLoopback(boundHost)) return true; // a token guards those
  if (!hostHeader) return false;
  const host = hostHeader.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  return isLoopback(host);
}

/**
 * `host:port` of the agent's HTTP server; IPv6 hosts in brackets (`[::1]:9090`). As in Go,
 * `:port` (no host) means every interface, 0.0.0.0.
 */
export interface ListenAddress {
  host: string;
  port: number;
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]*):(\d{1,5})$/;

/** The host `:port` binds: every IPv4 interface. */
export const ALL_INTERFACES = '0.0.0.0';

/** Parses `host:port`; undefined when it is not one. */
export function parseListen(text: string): ListenAddress | undefined {
  const m = HOST_PORT.exec(text);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  const host = (m[1] ?? '').replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? ALL_INTERFACES : host, port };
}

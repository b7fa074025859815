/**
 * Reading the agent's endpoints (/status, /audit) from the CLI, with the credentials the
 * agent's ui.auth asks for: a bearer token from TETHER_AGENT_TOKEN, or a user and password
 * in the URL (`http://user:password@host:9090`, sent as basic auth). Neither is printed:
 * errors name the URL without them.
 */
import { redactUrl } from '../errors.ts';

export class AgentHttpError extends Error {}

/** GETs `path` of the agent at `base`; throws AgentHttpError (naming the URL without credentials) unless 2xx. */
export async function agentGet(base: string, path: string, timeoutMs: number): Promise<Response> {
  const url = new URL(`${base.replace(/\/$/, '')}${path}`);
  const headers: Record<string, string> = {};
  if (url.username || url.password) {
    const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers['Authorization'] = `Basic ${Buffer.from(pair, 'utf8').toString('base64')}`;
    url.username = '';
    url.password = '';
  } else if (process.env.TETHER_AGENT_TOKEN) {
    headers['Authorization'] = `Bearer ${process.env.TETHER_AGENT_TOKEN.trim()}`;
  }
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new AgentHttpError(`${url.href}: ${redactUrl(e instanceof Error ? e.message : String(e))}`);
  }
  if (res.status === 401)
    throw new AgentHttpError(
      `${url.href}: HTTP 401, the agent wants credentials (ui.auth): set TETHER_AGENT_TOKEN, or put user:password in the URL`,
    );
  if (!res.ok) throw new AgentHttpError(`${url.href}: HTTP ${res.status}`);
  return res;
}

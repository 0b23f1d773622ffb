import { request as httpRequest } from 'node:http';
import { Agent } from 'node:http';

export interface PlainResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  body: any;
}

/** One keep-alive agent per source address, so that floods reuse connections as a real client would. */
const agents = new Map<string, Agent>();
function agentFor(localAddress: string): Agent {
  let agent = agents.get(localAddress);
  if (!agent) {
    agent = new Agent({ keepAlive: true, maxSockets: 16, localAddress });
    agents.set(localAddress, agent);
  }
  return agent;
}

/** Closes the keep-alive connections (call in afterAll). */
export function closeAddressAgents(): void {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}

/**
 * An HTTP request from a chosen loopback source address (127.0.0.2, 127.0.0.3, …: STACK-NOTES), so that a test
 * acts as distinct client IPs against a server on 127.0.0.1 without TRUST_PROXY or any network setup.
 */
export function requestFrom(
  localAddress: string,
  baseUrl: string,
  options: {
    method?: string;
    path: string;
    headers?: Record<string, string>;
    form?: Record<string, string>;
  },
): Promise<PlainResponse> {
  const url = new URL(options.path, baseUrl);
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
  const headers: Record<string, string> = { ...options.headers };
  if (body !== undefined) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? (body ? 'POST' : 'GET'), headers, agent: agentFor(localAddress) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

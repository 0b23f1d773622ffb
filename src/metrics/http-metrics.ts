import type { FastifyInstance } from 'fastify';
import type { LatchkeyMetrics } from './latchkey-metrics';

/** The label a request that matched no route gets (its raw path is what the sender wrote: never a label). */
export const UNMATCHED_ROUTE = '(unmatched)';
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'];

interface Children {
  count: { inc(): void };
  duration: { observe(value: number): void };
}

/**
 * Counts every response and its latency by method, route pattern (`/admin/clients/:client_id`, Fastify's
 * routeOptions.url) and status class, in an `onResponse` hook (after the response is sent: the request's own
 * latency does not include it). The label children are cached per (method, route, class): one Map lookup
 * and two increments per request.
 */
export function registerHttpMetrics(fastify: FastifyInstance, metrics: LatchkeyMetrics): void {
  const children = new Map<string, Children>();
  fastify.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions?.url ?? UNMATCHED_ROUTE;
    const status_class = STATUS_CLASSES[Math.floor(reply.statusCode / 100) - 1] ?? 'other';
    const method = req.method;
    const key = `${method} ${status_class} ${route}`;
    let child = children.get(key);
    if (!child) {
      const labels = { method, route, status_class };
      child = { count: metrics.httpRequests.labels(labels), duration: metrics.httpDuration.labels(labels) };
      children.set(key, child);
    }
    child.count.inc();
    child.duration.observe(reply.elapsedTime / 1000);
    done();
  });
}

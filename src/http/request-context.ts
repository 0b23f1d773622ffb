import { AsyncLocalStorage } from 'node:async_hooks';

/** Per-request facts that every audit event carries; set by registerRequestContext (request-context.hooks.ts). */
export interface RequestContext {
  requestId: string;
  ip: string | null;
  userAgent: string | null;
  startedAt: bigint; // process.hrtime.bigint() at arrival
  path: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

export function runWithRequestContext<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

export function currentRequestContext(): RequestContext | undefined {
  return storage.getStore();
}

export function elapsedMs(ctx: RequestContext | undefined): number | null {
  if (!ctx) return null;
  return Math.round(Number(process.hrtime.bigint() - ctx.startedAt) / 1e6);
}

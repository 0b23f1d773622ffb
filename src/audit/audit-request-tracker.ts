import type { RequestContext } from '../http/request-context';

export interface RequestFlags {
  /** the first stored event of its request (total_requests counts these) */
  requestFirst: boolean;
  /** the first failure event of its request (failures counts these) */
  requestFirstFailure: boolean;
}

/**
 * Knows, per HTTP request, whether an event was already recorded (and whether a failure was), so each
 * row says whether it is its request's first event / first failure. The security report then counts
 * requests and failed requests with a filter instead of a DISTINCT over every request id of the window.
 * Keyed by the request's context object (AsyncLocalStorage), so the memory goes with the request.
 * Events outside a request (CLI, schedules) have no request id and count as no request.
 */
export class AuditRequestTracker {
  private readonly seen = new WeakMap<RequestContext, { failed: boolean }>();

  /**
   * As `flags`, for a row a statement will write only if its change happens (AuditEmitter.stage): `undo` (once) puts
   * the request back as it was, for a change that did not happen. It must run before the request records anything
   * else: an event recorded in between took its flags with the staged row counted.
   */
  stage(
    ctx: RequestContext | undefined,
    requestId: string | null,
    failure: boolean,
  ): { flags: RequestFlags; undo: () => void } {
    const before = ctx ? this.seen.get(ctx) : undefined;
    const saved = before ? { ...before } : undefined;
    const flags = this.flags(ctx, requestId, failure);
    let undone = false;
    const undo = () => {
      if (!ctx || undone) return;
      undone = true;
      if (saved) this.seen.set(ctx, saved);
      else this.seen.delete(ctx);
    };
    return { flags, undo };
  }

  flags(ctx: RequestContext | undefined, requestId: string | null, failure: boolean): RequestFlags {
    if (!requestId) return { requestFirst: false, requestFirstFailure: false };
    if (!ctx || ctx.requestId !== requestId) return { requestFirst: true, requestFirstFailure: failure };
    const state = this.seen.get(ctx);
    if (!state) {
      this.seen.set(ctx, { failed: failure });
      return { requestFirst: true, requestFirstFailure: failure };
    }
    const firstFailure = failure && !state.failed;
    if (failure) state.failed = true;
    return { requestFirst: false, requestFirstFailure: firstFailure };
  }
}

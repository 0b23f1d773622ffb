import { Injectable, NestMiddleware } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { runWithRequestContext } from './request-context';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Normalises IPv4-mapped IPv6 addresses so that one client has one address in the audit trail. */
export function normaliseIp(ip: string | undefined): string | null {
  if (!ip) return null;
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}

export function requestIdFor(req: Request): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** Puts the request's id, ip (honouring TRUST_PROXY through express's `trust proxy`), user agent and start time in context. */
@Injectable()
export class RequestContextMiddleware implements NestMiddleware {
  use(req: Request, res: Response, next: NextFunction): void {
    const requestId = requestIdFor(req);
    res.setHeader('X-Request-Id', requestId);
    const ua = req.headers['user-agent'];
    runWithRequestContext(
      {
        requestId,
        ip: normaliseIp(req.ip),
        userAgent: typeof ua === 'string' ? ua : null,
        startedAt: process.hrtime.bigint(),
        path: req.path,
      },
      next,
    );
  }
}

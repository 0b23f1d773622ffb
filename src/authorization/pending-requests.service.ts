import { Injectable } from '@nestjs/common';
import { randomToken, sha256Hex } from '../common/crypto';
import {
  AuthorizationRequestsRepository,
  NewPendingRequest,
  PendingAuthorizationRequest,
} from './authorization-requests.repository';

/** How long a validated request waits for the user to sign in and decide. */
export const PENDING_REQUEST_TTL_SECONDS = 600;

export const REQUEST_ID = /^[A-Za-z0-9_-]{43}$/;

/**
 * The authorization request survives the login and consent round trip on the server: the pages carry only
 * an opaque 256-bit id (its SHA-256 is the key), so the return after login can go nowhere but back to the
 * request that was validated (no open redirect, nothing to tamper with in hidden fields).
 */
@Injectable()
export class PendingRequestsService {
  constructor(private readonly requests: AuthorizationRequestsRepository) {}

  async create(request: NewPendingRequest): Promise<string> {
    const id = randomToken();
    await this.requests.insert(sha256Hex(id), request, PENDING_REQUEST_TTL_SECONDS);
    return id;
  }

  find(id: unknown): Promise<PendingAuthorizationRequest | undefined> {
    if (typeof id !== 'string' || !REQUEST_ID.test(id)) return Promise.resolve(undefined);
    return this.requests.find(sha256Hex(id));
  }

  /** Single use: the request is gone once a decision is made. */
  take(id: unknown): Promise<PendingAuthorizationRequest | undefined> {
    if (typeof id !== 'string' || !REQUEST_ID.test(id)) return Promise.resolve(undefined);
    return this.requests.take(sha256Hex(id));
  }
}

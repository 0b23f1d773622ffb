import { Inject, Injectable } from '@nestjs/common';
import { isPlausibleClientId, type AuthenticatableClient } from '../clients/clients.service';
import { randomToken, sha256Hex } from '../common/crypto';
import { InvalidRequest, OAuthError } from '../common/oauth-errors';
import { oauthConfig, type OAuthConfig } from '../config/config.namespaces';
import { AuthorizeRequestValidator } from './authorize-request.validator';
import type { QueryParameters } from './checks/query-parameters';
import { PushedRequestsRepository } from './pushed-requests.repository';

/** RFC 9126 §2.2: the request_uri prefix. */
export const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';
const REQUEST_URI = /^urn:ietf:params:oauth:request_uri:[A-Za-z0-9_-]{43}$/;

/** A pushed request taken at the authorization endpoint. */
export interface TakenPushedRequest {
  params: QueryParameters;
  dpopJkt: string | null;
}

/**
 * Pushed authorization requests (RFC 9126): validated by the same rules, in the same order, as at the
 * authorization endpoint (AuthorizeRequestValidator), stored under a random single-use request_uri bound to the
 * authenticated client for PAR_TTL; the authorization endpoint then uses only the stored parameters.
 */
@Injectable()
export class PushedRequestsService {
  constructor(
    private readonly validator: AuthorizeRequestValidator,
    private readonly repository: PushedRequestsRepository,
    @Inject(oauthConfig.KEY) private readonly oauth: OAuthConfig,
  ) {}

  /**
   * Validates and stores a pushed request of an authenticated client. Every refusal is an OAuthError (the
   * endpoint answers JSON, never a redirect) whose `reason` is the authorization.rejected reason code.
   */
  async push(
    client: AuthenticatableClient,
    form: Readonly<Record<string, string | undefined>>,
    dpopJkt: string | null,
  ): Promise<{ request_uri: string; expires_in: number; scope: string }> {
    // RFC 9126 §2.1: request_uri is not allowed in a pushed request
    if (form.request_uri !== undefined) {
      throw new InvalidRequest('request_uri must not be sent to the pushed authorization request endpoint');
    }
    if (form.client_id !== undefined && form.client_id !== client.clientId) {
      throw new InvalidRequest('client_id does not match the authenticated client');
    }
    const params: Record<string, string> = {};
    for (const [name, value] of Object.entries(form)) {
      if (value !== undefined && !CLIENT_AUTH_PARAMS.has(name)) params[name] = value;
    }
    params.client_id = client.clientId;
    const validation = await this.validator.validate(toQuery(params), { pushed: true });
    if (validation.kind !== 'valid') {
      const { rejection } = validation;
      throw new OAuthError(rejection.error, rejection.description, rejection.reason);
    }
    const requestUri = `${REQUEST_URI_PREFIX}${randomToken()}`;
    await this.repository.insert({
      idHash: sha256Hex(requestUri),
      clientId: client.clientId,
      params,
      dpopJkt,
      ttlSeconds: this.oauth.parTtl,
    });
    return {
      request_uri: requestUri,
      expires_in: this.oauth.parTtl,
      scope: validation.request.scopes.join(' '),
    };
  }

  /** The pushed request behind a request_uri, once, for its own client; undefined if unknown/expired/used/foreign. */
  async take(clientId: string, requestUri: string): Promise<TakenPushedRequest | undefined> {
    // a client_id that cannot exist owns nothing, and never reaches SQL as junk (a NUL byte would fail there)
    if (!REQUEST_URI.test(requestUri) || !isPlausibleClientId(clientId)) return undefined;
    const row = await this.repository.take(sha256Hex(requestUri), clientId);
    if (!row) return undefined;
    return { params: toQuery(row.params), dpopJkt: row.dpop_jkt };
  }
}

/** Client authentication parameters are not part of the authorization request. */
const CLIENT_AUTH_PARAMS = new Set(['client_secret', 'client_assertion', 'client_assertion_type']);

function toQuery(params: Record<string, string>): QueryParameters {
  return new Map(Object.entries(params).map(([name, value]) => [name, [value]]));
}

/**
 * A refused sign-in callback: `error` is an OAuth error code — the authorization server's own (access_denied,
 * login_required, …) or the client's verdict on the response (invalid_request for a missing, unknown, expired,
 * reused or foreign `state`, a wrong `iss`; invalid_grant for a failed code exchange).
 */
export class LatchkeyCallbackError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    /** the reason code of the sign_in.rejected event */
    readonly reason: string,
    readonly status = 400,
  ) {
    super(`${error}: ${description}`);
    this.name = 'LatchkeyCallbackError';
  }
}

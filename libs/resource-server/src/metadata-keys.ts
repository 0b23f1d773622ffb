/** Route metadata set by @Scopes() and @Introspect(), read by LatchkeyAuthGuard. */
export const LATCHKEY_SCOPES = 'latchkey:scopes';
export const LATCHKEY_INTROSPECT = 'latchkey:introspect';

import { registerDecorator, ValidateIf, ValidationArguments, ValidationOptions } from 'class-validator';
import {
  clientNameProblems,
  grantTypesProblems,
  redirectUrisProblems,
  scopeSyntaxProblems,
} from '../client-rules';

/**
 * Present-or-absent: validates the field whenever it is in the body, `null` included (class-validator's
 * @IsOptional would let `null` through, and a null would then reach the database).
 */
export function Optional(): PropertyDecorator {
  return ValidateIf((_object: object, value: unknown) => value !== undefined);
}

function problemsDecorator(
  name: string,
  problems: (value: unknown) => string[],
  options?: ValidationOptions,
) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name,
      target: object.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) => problems(value).length === 0,
        defaultMessage: (args?: ValidationArguments) => problems(args?.value).join('; '),
      },
    });
}

/** redirect_uris: an array of at most 20 distinct registrable redirect URIs (client-rules.ts). */
export const RedirectUris = (options?: ValidationOptions) =>
  problemsDecorator('redirectUris', redirectUrisProblems, options);

/** post_logout_redirect_uris (RP-Initiated Logout 1.0 §3.1): the same rules as redirect_uris. */
export const PostLogoutRedirectUris = (options?: ValidationOptions) =>
  problemsDecorator(
    'postLogoutRedirectUris',
    (value) =>
      redirectUrisProblems(value).map((m) => m.replace(/^redirect_uris/, 'post_logout_redirect_uris')),
    options,
  );

/** scope: space-separated RFC 6749 scope-tokens, each once (which scopes are allowed is checked later). */
export const ScopeString = (options?: ValidationOptions) =>
  problemsDecorator('scopeString', scopeSyntaxProblems, options);

/** client_name: 1–200 characters, not blank, no control characters. */
export const ClientName = (options?: ValidationOptions) =>
  problemsDecorator('clientName', clientNameProblems, options);

/** grant_types: a non-empty array of distinct supported grant types. */
export const GrantTypes = (options?: ValidationOptions) =>
  problemsDecorator('grantTypes', grantTypesProblems, options);

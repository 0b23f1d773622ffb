import { registerDecorator, ValidationArguments } from 'class-validator';
import { usernameProblem } from '../username';

export const MAX_NAME_LENGTH = 200;
export const MAX_EMAIL_LENGTH = 320;

/** A practical e-mail shape (RFC 5322 addr-spec without quoting or comments): local@domain.tld */
const EMAIL = /^[^\s@"(),:;<>[\\\]]+@[^\s@"(),:;<>[\\\]]+\.[^\s@"(),:;<>[\\\]]+$/;

function problemsDecorator(name: string, problem: (value: unknown) => string | null) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name,
      target: object.constructor,
      propertyName,
      validator: {
        validate: (value: unknown) => problem(value) === null,
        defaultMessage: (args?: ValidationArguments) => problem(args?.value) ?? '',
      },
    });
}

/** username: 1–64 characters, unique case-insensitively after NFKC (username.ts). */
export const Username = () => problemsDecorator('username', usernameProblem);

/** name: null (none) or 1–200 characters. */
export function nameProblem(v: unknown): string | null {
  return v === null
    ? null
    : typeof v !== 'string' || v.trim().length === 0 || v.length > MAX_NAME_LENGTH
      ? `name must be null or 1 to ${MAX_NAME_LENGTH} characters`
      : null;
}

/** email: null (none) or an address of at most 320 characters. */
export function emailProblem(v: unknown): string | null {
  return v === null
    ? null
    : typeof v !== 'string' || v.length > MAX_EMAIL_LENGTH || !EMAIL.test(v)
      ? 'email must be null or an e-mail address (local@domain)'
      : null;
}

export const ProfileName = () => problemsDecorator('name', nameProblem);
export const Email = () => problemsDecorator('email', emailProblem);

/** password: a string; its length (PASSWORD_MIN_LENGTH…1,024) is checked by the service (configurable). */
export const Password = () =>
  problemsDecorator('password', (v) => (typeof v === 'string' ? null : 'password must be a string'));

import { Inject, Injectable, Module, type DynamicModule } from '@nestjs/common';
import {
  TokenClaimsExtension,
  type TokenClaimsContext,
  type TokenClaimsProvider,
} from '../../../src/extensions';

/** The team's employee directory: username → attributes (in real life, HR's database or an LDAP lookup). */
export type EmployeeDirectory = Record<string, { department: string; employee_number: string }>;
export const EMPLOYEE_DIRECTORY = Symbol('EMPLOYEE_DIRECTORY');

/**
 * (b) Custom claims for the team's users: `department` and `employee_number` in access tokens (their APIs
 * authorise on the department) and in id_tokens (their web apps show it), from a user attribute — the username
 * Latchkey stores, looked up in the directory. Machine tokens (client_credentials) get none.
 */
@Injectable()
@TokenClaimsExtension()
export class EmployeeClaims implements TokenClaimsProvider {
  constructor(@Inject(EMPLOYEE_DIRECTORY) private readonly directory: EmployeeDirectory) {}

  async claims(context: TokenClaimsContext): Promise<Record<string, unknown>> {
    if (context.userId === null) return {};
    const user = await context.user(); // one query, shared with any other provider of this token
    const employee = user ? this.directory[user.username] : undefined;
    return employee ? { department: employee.department, employee_number: employee.employee_number } : {};
  }
}

@Module({})
export class EmployeeClaimsModule {
  static forRoot(directory: EmployeeDirectory): DynamicModule {
    return {
      module: EmployeeClaimsModule,
      providers: [{ provide: EMPLOYEE_DIRECTORY, useValue: directory }, EmployeeClaims],
    };
  }
}

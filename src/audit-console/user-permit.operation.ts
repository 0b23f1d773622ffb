import { Injectable } from '@nestjs/common';
import { CliCommand, CliError } from '../operations/cli-command.decorator';
import { AuditEmitter } from '../events/events';
import { normalizeUsername } from '../users/username';
import { USER_PERMISSIONS } from './console-session';
import { UserPermissionsRepository } from './user-permissions.repository';

/** `npm run cli -- user:permit --username U --permission audit:read [--revoke]`: who may open the audit console. */
@Injectable()
export class UserPermitOperation {
  constructor(
    private readonly permissions: UserPermissionsRepository,
    private readonly audit: AuditEmitter,
  ) {}

  @CliCommand('user:permit')
  async permit(options: { username?: unknown; permission?: unknown; revoke?: unknown }) {
    const { username, permission } = options;
    if (typeof username !== 'string' || !username) throw new CliError('--username is required');
    if (typeof permission !== 'string' || !USER_PERMISSIONS.includes(permission))
      throw new CliError(`--permission must be one of ${USER_PERMISSIONS.join(', ')}`);
    const revoke = options.revoke === true;
    const normalized = normalizeUsername(username);
    const result = revoke
      ? await this.permissions.revoke(normalized, permission)
      : await this.permissions.grant(normalized, permission);
    if (!result) throw new CliError(`no user named ${username}`);
    await this.audit.record({
      type: revoke ? 'user.permission_revoked' : 'user.permission_granted',
      outcome: 'success',
      subject: result.user_id,
      details: { permission, actor: 'cli' },
    });
    return { user_id: result.user_id, username: normalized, permission, granted: !revoke };
  }
}

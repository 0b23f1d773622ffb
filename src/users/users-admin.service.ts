import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { invalidFields } from '../http/validation-errors';
import { decodeCursor, encodeCursor } from '../http/keyset-cursor';
import { DEFAULT_PAGE_SIZE } from '../http/keyset-cursor';
import { AuditEmitter } from '../events/events';
import type { CreateUserDto } from './dto/create-user.dto';
import type { UpdateUserDto } from './dto/update-user.dto';
import type { UserGrantListResponseDto, UserListResponseDto, UserResponseDto } from './dto/user-response.dto';
import { hashPassword } from './password-hasher';
import { SessionsService } from './sessions.service';
import { GrantRevocations } from '../grants/grant-revocations.service';
import { GrantsService } from '../grants/grants.service';
import { ConsentsRepository } from './consents.repository';
import { normalizeUsername } from './username';
import { UsersRepository, type UserProfileRow } from './users.repository';
import { UsersService } from './users.service';
import { isUuid } from '../common/uuid';

/** Who changes users: an admin API client (its client_id is recorded as `actor`). */
export interface UsersActor {
  clientId: string;
}

export function toUserResponse(row: UserProfileRow): UserResponseDto {
  return {
    id: row.id,
    username: row.username,
    name: row.name,
    email: row.email,
    email_verified: row.email_verified === true,
    enabled: row.enabled === true,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

function notFound(): NotFoundException {
  return new NotFoundException({ statusCode: 404, error: 'Not Found', message: 'no such user' });
}

/**
 * docs/users.md: create, list, read, update, delete users; list and revoke a
 * user's grants per client. Disabling a user or setting a password ends the user's sessions and revokes
 * the user's grants; deleting ends everything. Every change is audited with the acting client
 * (`user.created` / `user.updated` / `user.deleted` / `user.grants_revoked`, and `grant.revoked` per grant,
 * written in the revocation's transaction).
 */
@Injectable()
export class UsersAdminService {
  constructor(
    private readonly users: UsersRepository,
    private readonly grants: GrantsService,
    private readonly revocations: GrantRevocations,
    private readonly consents: ConsentsRepository,
    private readonly usersService: UsersService,
    private readonly sessions: SessionsService,
    private readonly audit: AuditEmitter,
  ) {}

  async create(dto: CreateUserDto, actor: UsersActor): Promise<UserResponseDto> {
    const problem = this.usersService.passwordProblem(dto.password);
    if (problem) throw invalidFields({ password: [problem] });
    const display = dto.username.trim();
    const row = await this.users.insertProfile({
      username: display,
      usernameNormalized: normalizeUsername(display),
      passwordHash: await hashPassword(dto.password),
      name: dto.name ?? null,
      email: dto.email ?? null,
      emailVerified: dto.email_verified ?? false,
      enabled: dto.enabled ?? true,
    });
    if (!row) {
      const message = `a user named "${display}" already exists (usernames are case-insensitive)`;
      throw new ConflictException({
        statusCode: 409,
        error: 'Conflict',
        message,
        fields: { username: [message] },
      });
    }
    await this.audit.record({
      type: 'user.created',
      outcome: 'success',
      clientId: actor.clientId,
      subject: row.id,
      details: { actor: actor.clientId, fields: fieldsOf(dto) },
    });
    return toUserResponse(row);
  }

  async list(limit = DEFAULT_PAGE_SIZE, cursor?: string, username?: string): Promise<UserListResponseDto> {
    const after = cursor === undefined ? null : decodeCursor(cursor);
    if (cursor !== undefined && (!after || !isUuid(after.clientId)))
      throw invalidFields({ cursor: ['cursor is not a next_cursor of this list'] });
    const rows = await this.users.page(
      limit + 1,
      after && { createdAt: after.createdAt, id: after.clientId },
      username === undefined ? null : normalizeUsername(username),
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(toUserResponse),
      next_cursor:
        rows.length > limit && last ? encodeCursor({ createdAt: last.cursor_t, clientId: last.id }) : null,
    };
  }

  async get(id: string): Promise<UserResponseDto> {
    const row = await this.usersService.findProfile(id);
    if (!row) throw notFound();
    return toUserResponse(row);
  }

  async update(id: string, dto: UpdateUserDto, actor: UsersActor): Promise<UserResponseDto> {
    if (!isUuid(id)) throw notFound();
    if (dto.password !== undefined) {
      const problem = this.usersService.passwordProblem(dto.password);
      if (problem) throw invalidFields({ password: [problem] });
    }
    const passwordHash = dto.password !== undefined ? await hashPassword(dto.password) : undefined;
    const { row, cause } = await this.revocations.transaction(async (manager) => {
      const updated = await this.users.update(
        id,
        {
          passwordHash,
          name: dto.name,
          email: dto.email,
          emailVerified: dto.email_verified,
          enabled: dto.enabled,
        },
        manager,
      );
      if (!updated) throw notFound();
      const disabled = updated.was_enabled && !updated.enabled;
      // a disabled account or a new password: whatever the old credentials opened is closed
      const cause = disabled ? 'user_disabled' : passwordHash !== undefined ? 'password_changed' : null;
      if (cause) await this.revokeGrants(id, null, cause, actor, manager);
      return { row: updated, cause };
    });
    const sessionsEnded = cause ? await this.sessions.endAllOf(id) : 0;
    await this.audit.record({
      type: 'user.updated',
      outcome: 'success',
      clientId: actor.clientId,
      subject: id,
      details: {
        actor: actor.clientId,
        fields: fieldsOf(dto),
        ...(cause ? { cause, sessions_ended: sessionsEnded } : {}),
      },
    });
    return toUserResponse(row);
  }

  async delete(id: string, actor: UsersActor): Promise<void> {
    if (!isUuid(id)) throw notFound();
    await this.revocations.transaction(async (manager) => {
      await this.revokeGrants(id, null, 'user_deleted', actor, manager);
      // sessions, consents, codes and the (revoked) grants go with the user: ON DELETE CASCADE
      if (!(await this.users.delete(id, manager))) throw notFound();
    });
    await this.audit.record({
      type: 'user.deleted',
      outcome: 'success',
      clientId: actor.clientId,
      subject: id,
      details: { actor: actor.clientId },
    });
  }

  async listGrants(
    id: string,
    limit = DEFAULT_PAGE_SIZE,
    cursor?: string,
  ): Promise<UserGrantListResponseDto> {
    if (!(await this.usersService.findProfile(id))) throw notFound();
    const after = cursor === undefined ? null : decodeGrantCursor(cursor);
    if (cursor !== undefined && after === null)
      throw invalidFields({ cursor: ['cursor is not a next_cursor of this list'] });
    const rows = await this.grants.listForUser(id, limit + 1, after);
    const page = rows.slice(0, limit);
    return {
      items: page.map((r) => ({
        client_id: r.client_id,
        client_name: r.client_name,
        scope: r.scope ?? '',
        created_at: new Date(r.created_at).toISOString(),
        last_used_at: new Date(r.last_used_at).toISOString(),
      })),
      next_cursor:
        rows.length > limit && page.length
          ? Buffer.from(page[page.length - 1].client_id).toString('base64url')
          : null,
    };
  }

  /** Revokes what the user granted one client: its grants (and tokens) and the remembered consent. */
  async revokeClientGrants(id: string, clientId: string, actor: UsersActor): Promise<void> {
    if (!(await this.usersService.findProfile(id))) throw notFound();
    const revoked = await this.revocations.transaction(async (manager) => {
      const grants = await this.revokeGrants(id, clientId, 'admin', actor, manager);
      await this.consents.forget(id, clientId, manager);
      return grants;
    });
    await this.audit.record({
      type: 'user.grants_revoked',
      outcome: 'success',
      clientId: actor.clientId,
      subject: id,
      details: { actor: actor.clientId, client_id: clientId, grants: revoked },
    });
  }

  private async revokeGrants(
    userId: string,
    clientId: string | null,
    cause: string,
    actor: UsersActor,
    manager: EntityManager,
  ): Promise<number> {
    const revoked = await this.revocations.revokeUserGrants(userId, clientId, cause, actor.clientId, manager);
    return revoked.length;
  }
}

/** The names of the fields a request set (never their values: a password is among them). */
function fieldsOf(dto: object): string[] {
  return Object.keys(dto).filter((k) => (dto as Record<string, unknown>)[k] !== undefined);
}

function decodeGrantCursor(value: string): string | null {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(value)) return null;
  const clientId = Buffer.from(value, 'base64url').toString('utf8');
  return /^[\x21-\x7e]{1,64}$/.test(clientId) ? clientId : null;
}

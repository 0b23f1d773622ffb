import { Injectable } from '@nestjs/common';
import { AuditEventFilters, AuditEventsRepository, AuditEventView } from './audit-events.repository';
import { decodeCursor, encodeCursor } from './audit-query-values';

/** Rows fetched per query while streaming CSV. */
export const CSV_PAGE_SIZE = 1000;

/** Reading the audit trail for auditors (GET /audit/events). */
@Injectable()
export class AuditEventsService {
  constructor(private readonly repository: AuditEventsRepository) {}

  /** One page, newest first; next_cursor is null on the last page. */
  async page(
    filters: AuditEventFilters,
    limit: number,
    cursor?: string,
  ): Promise<{ items: AuditEventView[]; next_cursor: string | null }> {
    const page = await this.repository.findPage(filters, limit, cursor ? decodeCursor(cursor) : undefined);
    return { items: page.items, next_cursor: page.next ? encodeCursor(page.next) : null };
  }

  /** Every matching event (or at most `max`), page by page, newest first. */
  async *all(filters: AuditEventFilters, cursor?: string, max = Infinity): AsyncGenerator<AuditEventView[]> {
    let position = cursor ? decodeCursor(cursor) : undefined;
    let left = max;
    while (left > 0) {
      const page = await this.repository.findPage(filters, Math.min(CSV_PAGE_SIZE, left), position);
      if (page.items.length) yield page.items;
      left -= page.items.length;
      if (!page.next) return;
      position = page.next;
    }
  }
}

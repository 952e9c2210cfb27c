import { Controller, Get, Param } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { InternalActiveKeys } from '@dvd/contracts';
import { AllowRoles, AllowServices } from '@dvd/platform';
import { authorityNotFound } from '../authorities/access';

/**
 * The key directory for intake (role `service`): which of an authority's keys are active
 * right now. Intake asks on every upload (ADR 0010), so a key is accepted as soon as the
 * POST that added it answered 201 and refused as soon as the DELETE answered 204 — the
 * authority.changed event arrives later. One indexed query.
 */
@AllowRoles('service')
@AllowServices('intake')
@Controller('internal/authorities')
export class InternalKeyController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  @Get(':id/active-kids')
  async activeKids(@Param('id') id: string): Promise<InternalActiveKeys> {
    const rows: Array<{ id: string; kids: string[] }> = await this.db.query(
      `SELECT a.id, COALESCE(array_agg(k.kid ORDER BY k.created_at, k.kid) FILTER (WHERE k.kid IS NOT NULL), '{}') AS kids
         FROM authorities a LEFT JOIN authority_keys k ON k.authority_id = a.id AND k.status = 'ACTIVE'
        WHERE a.id = $1 GROUP BY a.id`,
      [id],
    );
    if (!rows[0]) throw authorityNotFound();
    return { authorityId: rows[0].id, activeKeyIds: rows[0].kids };
  }
}

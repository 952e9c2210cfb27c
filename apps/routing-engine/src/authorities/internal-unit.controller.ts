import { Controller, Get, Param } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AUTHORITY_ID_PATTERN, UNIT_ID_PATTERN } from '@dvd/contracts';
import { AllowRoles, AllowServices, ApiError } from '@dvd/platform';

/**
 * For realtime (role `service`, ADR 0021): does this authority have this unit? An official
 * who asks for one unit's events (`GET /events?unitId=`) must name a unit of their own
 * authority. The ids back, or 404; nothing else is told. One primary-key lookup.
 */
@AllowRoles('service')
@AllowServices('realtime')
@Controller('internal/authorities')
export class InternalUnitController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  @Get(':id/units/:unitId')
  async exists(@Param('id') id: string, @Param('unitId') unitId: string): Promise<{ authorityId: string; unitId: string }> {
    const found =
      AUTHORITY_ID_PATTERN.test(id) && UNIT_ID_PATTERN.test(unitId)
        ? ((await this.db.query(`SELECT 1 FROM units WHERE authority_id = $1 AND id = $2`, [id, unitId])) as unknown[]).length > 0
        : false;
    if (!found) throw ApiError.notFound('unit');
    return { authorityId: id, unitId };
  }
}

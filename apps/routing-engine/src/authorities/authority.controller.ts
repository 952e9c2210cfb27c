import { Controller, Get, Param } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { ApiError } from '@dvd/platform';
import { AuthorityEntity, UnitEntity } from './authority.entity';

@Controller('api/v1/authorities')
export class AuthorityController {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  /** Any authenticated caller may read an authority's public profile (no secrets). */
  @Get(':id')
  async get(@Param('id') id: string) {
    const authority = await this.db.getRepository(AuthorityEntity).findOneBy({ id });
    if (!authority) throw ApiError.notFound('authority', 'authority-not-found');
    const units = await this.db.getRepository(UnitEntity).find({ where: { authorityId: id }, order: { createdAt: 'ASC', id: 'ASC' } });
    return {
      id: authority.id,
      name: authority.name,
      retentionPeriod: authority.retentionPeriod,
      defaultUnitId: authority.defaultUnitId,
      units: units.map((u) => ({ id: u.id, name: u.name })),
    };
  }
}

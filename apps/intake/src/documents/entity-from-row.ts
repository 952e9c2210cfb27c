import { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * An entity from a raw row (`INSERT … RETURNING *`, column names as in the table), hydrated
 * the way TypeORM hydrates what it selects: so that a statement that writes a row can hand
 * it back without a second round trip to read it.
 */
export function entityFromRow<T extends ObjectLiteral>(manager: EntityManager, target: EntityTarget<T>, row: Record<string, unknown>): T {
  const metadata = manager.connection.getMetadata(target);
  const entity = manager.create(target);
  for (const column of metadata.columns) {
    if (column.databaseName in row)
      column.setEntityValue(entity, manager.connection.driver.prepareHydratedValue(row[column.databaseName], column));
  }
  return entity;
}

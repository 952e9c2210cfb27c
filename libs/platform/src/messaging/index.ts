export * from './connection-errors';
export * from './consumer-discovery';
export * from './consumes.decorator';
export * from './dead-letters';
export * from './messaging';
export * from './messaging-tables';
export * from './retry-schedule';
export * from './dead-letter.controller';

export * from './messaging';
export * from './messaging-tables';

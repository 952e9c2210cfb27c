export * from './events';
export * from './http';
export * from './identity';
export * from './services';

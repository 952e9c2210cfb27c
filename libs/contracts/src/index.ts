export * from './events';
export * from './http';
export * from './identity';
export * from './services';
export * from './metrics';

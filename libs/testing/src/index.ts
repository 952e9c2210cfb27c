export * from './events';
export * from './identity';
export * from './infra';
export * from './local-s3';

export * from './infra';
export * from './local-s3';

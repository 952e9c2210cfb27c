export * from './identity-keys';
export * from './identity-signature';
export * from './identity.guard';
export * from './internal-client';
export * from './replay-guard';

export * from './identity-signature';
export * from './identity.guard';
export * from './internal-client';

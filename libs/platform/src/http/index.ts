export * from './paging';
export * from './early-response';
export * from './egress-target';

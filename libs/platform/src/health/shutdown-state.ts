import { Injectable } from '@nestjs/common';

/**
 * Whether the service is draining (SIGTERM received): readiness answers 503 so that load
 * balancers stop sending new requests while in-flight ones finish.
 */
@Injectable()
export class ShutdownState {
  draining = false;
}

import { Injectable } from '@nestjs/common';

/**
 * Whether the service is draining (SIGTERM received): readiness answers 503 so that load
 * balancers stop sending new requests while in-flight ones finish. Long-lived responses
 * (the realtime stream) end when draining begins (`onDrain`): their clients reconnect to
 * another replica instead of holding this one until the grace period is over.
 */
@Injectable()
export class ShutdownState {
  private state = false;
  private readonly listeners: Array<() => void> = [];

  get draining(): boolean {
    return this.state;
  }

  set draining(value: boolean) {
    const begins = value && !this.state;
    this.state = value;
    if (begins) for (const listener of this.listeners.splice(0)) listener();
  }

  /** Runs `listener` once when draining begins (at once if it has begun). */
  onDrain(listener: () => void): void {
    if (this.state) listener();
    else this.listeners.push(listener);
  }
}

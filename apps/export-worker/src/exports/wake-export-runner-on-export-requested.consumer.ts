import { Injectable } from '@nestjs/common';
import { Consumes } from '@dvd/platform';
import { ExportRunner } from './export-runner';

/** export.requested → wake a worker (the job row was committed with the event; nothing else to write). */
@Injectable()
export class WakeExportRunnerOnExportRequested {
  constructor(private readonly runner: ExportRunner) {}

  @Consumes('export.requested')
  async wake(): Promise<void> {
    // after the handler's transaction commits, so the worker sees the job
    setImmediate(() => this.runner.kick());
  }
}

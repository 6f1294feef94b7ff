import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../core/clock.ts';
import type { Random } from '../core/random.ts';
import type { Admission } from './admission.ts';
import type { Engine } from './engine.ts';
import type { StatsRecorder } from './stats.ts';
import type { ResolvedSimOptions, SimFaults } from './types.ts';

/** What request handlers see of a running simulated worker. */
export interface SimCore {
  readonly o: ResolvedSimOptions;
  readonly clock: Clock;
  readonly engine: Engine;
  readonly recorder: StatsRecorder;
  /** Tracks in-flight requests and admits new ones once per event-loop turn. */
  readonly admission: Admission;
  /** Draws generated text (seeded). */
  readonly textRandom: Random;
  /** Draws faults (seeded separately, so text does not depend on fault settings). */
  readonly faultRandom: Random;
  readonly faults: SimFaults;
  /** Clock time the worker was created; log times are relative to it. */
  readonly t0: number;
  /** True while the model is still loading after a (re)start. */
  loading(): boolean;
  /**
   * Counts an arriving inference request against the crashAfter fault; false when this request
   * crashed the server (the caller stops: its connection is being destroyed).
   */
  admit(): boolean;
  /** The next request number (1, 2, ...). */
  nextRequestId(): number;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, query: string) => void;

/** Routes keyed by `METHOD /path`. */
export type Routes = Map<string, Handler>;

/** The public types every runtime entry of `outbox` exports (pages, Node, Workers): one list, not three. */
export type { OutboxOptions } from './core/options';
export type { DropInfo, DropReason, OutboxStats, TrackOptions } from './core/types';
export type {
  ActiveStartOptions,
  AttributesOf,
  GenerationAttributes,
  Observation,
  ObservationAttributes,
  ObservationLevel,
  ObservationType,
  ObserveOptions,
  Outbox,
  ParentSpanContext,
  PropagatedAttributes,
  ScoreInput,
  SpanAttributes,
  StartOptions,
  TraceAttributes,
  TracingCalls,
} from './trace/types';

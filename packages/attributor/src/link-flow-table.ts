import type { Flow, FlowEndReason } from '@netwho/capture';
import type { Attributor } from './attributor';

/** The part of a `@netwho/capture` FlowTable that attribution listens to. */
export interface FlowEvents {
  on(event: 'flow', listener: (flow: Flow) => void): unknown;
  on(event: 'end', listener: (flow: Flow, reason: FlowEndReason) => void): unknown;
  off(event: 'flow', listener: (flow: Flow) => void): unknown;
  off(event: 'end', listener: (flow: Flow, reason: FlowEndReason) => void): unknown;
}

/**
 * Starts attribution for every new flow of a capture FlowTable (on its first packet, a SYN
 * included) and forgets flows the table ends. Returns a function that detaches it.
 */
export function attributeFlows(table: FlowEvents, attributor: Attributor): () => void {
  const onFlow = (flow: Flow) => {
    attributor.flowStarted(flow);
  };
  const onEnd = (flow: Flow) => attributor.flowEnded(flow.id);
  table.on('flow', onFlow);
  table.on('end', onEnd);
  return () => {
    table.off('flow', onFlow);
    table.off('end', onEnd);
  };
}

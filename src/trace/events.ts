/**
 * Decoded rows back to plain `TraceEvent` objects: for the few consumers that need events rather
 * than columns (running a trace in a real interpreter, tests). Defaults are filled in: `tracked`
 * is explicit and `collect` carries its generation.
 */
import { AllocFlag, OP_NAMES, objectIdOf } from './types.js';
import type { EventChunk, ObjectId, StringTable, TraceEvent } from './types.js';

/** The event in row `row` of `chunk`. */
export function eventAt(chunk: EventChunk, row: number, types: StringTable, sites: StringTable): TraceEvent {
  const op = OP_NAMES[chunk.op[row]];
  const id = (): ObjectId => objectIdOf(chunk, chunk.obj[row]);
  const time = chunk.time[row];
  const withTime = <E extends TraceEvent>(event: E): E => (Number.isNaN(time) ? event : { ...event, t: time });
  switch (op) {
    case 'alloc': {
      const flags = chunk.flags[row];
      const finalizer = (flags >> AllocFlag.finalizerShift) & 3;
      return withTime({
        op,
        id: id(),
        type: types.get(chunk.aux[row]),
        size: chunk.arg[row],
        tracked: (flags & AllocFlag.untracked) === 0,
        ...(chunk.site[row] >= 0 ? { site: sites.get(chunk.site[row]) } : {}),
        ...(finalizer === 1 ? { finalizer: 'del' as const } : finalizer === 2 ? { finalizer: 'legacy' as const } : {}),
      });
    }
    case 'incref':
    case 'decref':
    case 'free':
      return withTime({ op, id: id() });
    case 'link':
    case 'unlink':
      return withTime({ op, src: id(), dst: objectIdOf(chunk, chunk.arg[row]) });
    case 'resize':
      return withTime({ op, id: id(), size: chunk.arg[row] });
    case 'collect':
      return withTime({ op, gen: chunk.arg[row] });
    case 'gc':
      return withTime({ op, enabled: chunk.arg[row] === 1 });
    case 'threshold':
      return withTime({ op, gen: chunk.aux[row], value: chunk.arg[row] });
    case 'freeze':
    case 'unfreeze':
      return withTime({ op });
    case 'mark':
      return withTime({ op, label: chunk.strings[chunk.arg[row]] });
    default:
      throw new Error(`row ${row} has op code ${chunk.op[row]}`);
  }
}


/** Every event of a list of chunks, in order. */
export function eventsOf(chunks: Iterable<EventChunk>, types: StringTable, sites: StringTable): TraceEvent[] {
  const events: TraceEvent[] = [];
  for (const chunk of chunks) for (let row = 0; row < chunk.length; row++) events.push(eventAt(chunk, row, types, sites));
  return events;
}

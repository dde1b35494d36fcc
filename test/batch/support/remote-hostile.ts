/** A batch class whose items report what the batch rebuilt in their worker holds under odd keys. */
import { Batch, inbatchParallel } from 'weftjs/batch';

export const oddKeys = ['__proto__', 'constructor', 'a\u0000b', '\ud800'] as const;

export class Odd extends Batch {
  @inbatchParallel({ init: 'indices', post: (results: unknown[]) => results })
  look(_id: number) {
    const self = this as unknown as Record<string, unknown>;
    return {
      own: oddKeys.map((key) => (Object.hasOwn(self, key) ? self[key] : 'missing')),
      prototypeKept: Object.getPrototypeOf(this) === Odd.prototype,
    };
  }
}

import { asyncPool, inline, processes, threads } from 'weftjs';
import { describeExecutorConformance } from 'weftjs/testing';

describeExecutorConformance('inline', () => inline());
describeExecutorConformance('asyncPool', () => asyncPool({ concurrency: 8 }));
describeExecutorConformance('threads', () => threads({ workers: 2 }), {
  makeMemoryCapped: (maxMemoryMb) => threads({ workers: 2, maxMemoryMb }),
});
describeExecutorConformance('processes', () => processes({ workers: 2 }), {
  makeMemoryCapped: (maxMemoryMb) => processes({ workers: 2, maxMemoryMb }),
});

import { asyncPool, inline, processes, threads } from 'weft';
import { describeExecutorConformance } from 'weft/testing';

describeExecutorConformance('inline', () => inline());
describeExecutorConformance('asyncPool', () => asyncPool({ concurrency: 8 }));
describeExecutorConformance('threads', () => threads({ workers: 2 }));
describeExecutorConformance('processes', () => processes({ workers: 2 }));

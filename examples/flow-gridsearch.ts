/**
 * A real parameter grid on worker threads: fit a line to 200,000 noisy points by
 * gradient descent for every learning rate × batch size (5 × 4 = 20 ForEach tasks, each
 * about a hundred milliseconds of CPU), then pick the best fit. The points are written
 * once and broadcast; each task's loss is its own artifact, joined downstream.
 *
 *   weft run examples/flow-gridsearch.ts --executor threads
 */
import { Flow, ForEach, Parameter } from 'weftjs/flow';

const flow = new Flow('GridSearch');

/** A small deterministic random generator, so every run fits the same data. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const Data = flow.layer('Data', (self) => {
  const next = random(7);
  const xs = new Float64Array(200_000);
  const ys = new Float64Array(200_000);
  for (let i = 0; i < xs.length; i++) {
    xs[i] = next() * 4 - 2;
    ys[i] = 3 * xs[i]! - 1 + (next() - 0.5) * 0.5;
  }
  self.set({ xs, ys });
  self.shard({ rate: [0.001, 0.003, 0.01, 0.03, 0.1], batch: [16, 64, 256, 1024] });
});

const Fit = flow.layer(
  'Fit',
  {
    foreach: new ForEach({
      parameters: [
        new Parameter({ layer: Data, attribute: 'rate' }),
        new Parameter({ layer: Data, attribute: 'batch' }),
        new Parameter({ layer: Data, attribute: 'xs' }),
        new Parameter({ layer: Data, attribute: 'ys' }),
      ],
    }),
  },
  (self, data) => {
    const { rate, batch, xs, ys } = data as {
      rate: number;
      batch: number;
      xs: Float64Array;
      ys: Float64Array;
    };
    let slope = 0;
    let intercept = 0;
    for (let epoch = 0; epoch < 10; epoch++) {
      for (let start = 0; start < xs.length; start += batch) {
        let gradSlope = 0;
        let gradIntercept = 0;
        const end = Math.min(xs.length, start + batch);
        for (let i = start; i < end; i++) {
          const error = slope * xs[i]! + intercept - ys[i]!;
          gradSlope += error * xs[i]!;
          gradIntercept += error;
        }
        slope -= (rate * gradSlope) / (end - start);
        intercept -= (rate * gradIntercept) / (end - start);
      }
    }
    let loss = 0;
    for (let i = 0; i < xs.length; i++) loss += (slope * xs[i]! + intercept - ys[i]!) ** 2;
    self.set({ rate, batch, slope, intercept, loss: loss / xs.length });
  },
  [Data],
);

flow.layer(
  'Best',
  async (_self, fit) => {
    let best = -1;
    let bestLoss = Number.POSITIVE_INFINITY;
    const losses = await fit.loss.toArray();
    losses.forEach((loss: number, i: number) => {
      if (loss < bestLoss) {
        bestLoss = loss;
        best = i;
      }
    });
    const [rate, batch, slope, intercept] = await Promise.all([
      fit.rate.at(best),
      fit.batch.at(best),
      fit.slope.at(best),
      fit.intercept.at(best),
    ]);
    console.log(`${fit.loss.length} fits; best: rate ${rate}, batch ${batch}`);
    console.log(
      `y = ${slope.toFixed(2)}x ${intercept < 0 ? '-' : '+'} ${Math.abs(intercept).toFixed(2)}`,
    );
  },
  [Fit],
);

export default flow;

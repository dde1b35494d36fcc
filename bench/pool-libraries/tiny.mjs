// Tiny task: returns its input + 1, so the benchmark measures per-task pool overhead.
export default function increment(n) {
  return n + 1;
}

// The tiny item of the batch benchmark, run directly by piscina: x + 1.
export default function increment(x) {
  return x + 1;
}

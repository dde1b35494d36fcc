// CPU-bound task shared by the main thread (serial baseline) and the pool workers.
// A deterministic busy loop: the caller calibrates `iterations` to the wanted duration.
export function burn(iterations) {
  let sum = 0;
  for (let i = 0; i < iterations; i++) {
    sum += Math.sqrt(i);
  }
  return sum;
}

export default burn;

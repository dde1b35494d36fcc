// The seed's transform for piscina, the peer of the batch benchmark: one image in place.
export default function transform(image) {
  for (let i = 0; i < image.length; i++) image[i] = -Math.exp(-Math.exp(image[i]));
  return null;
}

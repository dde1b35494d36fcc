/**
 * The errors `weft ui`'s API answers: an unknown run, layer or artifact (404), a query
 * value it does not accept (400). Each becomes `{ error: { code, message } }`.
 */
import { WeftError } from '../core/errors.ts';
import { unsafeChars } from './shell-word.ts';

/** An answer of the API other than the one asked for, with its HTTP status. */
export class ApiError extends WeftError {
  override name = 'ApiError';
  readonly status: 400 | 404;

  constructor(status: 400 | 404, code: string, message: string) {
    super(code, message);
    this.status = status;
  }

  /** Nothing of that name: a run, an application step, a layer, an artifact. */
  static notFound(message: string): ApiError {
    return new ApiError(404, 'WEFT_UI_NOT_FOUND', message);
  }

  /** A query parameter whose value is not one the route takes. */
  static badParameter(name: string, accepts: string, given: string): ApiError {
    return new ApiError(
      400,
      'WEFT_UI_BAD_PARAMETER',
      `Query parameter '${name}' must be ${accepts}; got '${clip(given)}'.`,
    );
  }
}

/** Text from a request, cut short and with control characters escaped, to quote in a message. */
export function clip(text: string, max = 80): string {
  const chars = [...text];
  const shown = chars.length > max ? `${chars.slice(0, max).join('')}…` : text;
  return shown.replace(
    unsafeChars,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** An input problem with the HTTP status and machine code the API reports for it. */
export class ImageRejected extends Error {
  constructor(
    readonly status: 400 | 413 | 415 | 422,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ImageRejected';
  }
}

/** An error whose message is already fit for the user (shown as it is). */
export class WicError extends Error {}

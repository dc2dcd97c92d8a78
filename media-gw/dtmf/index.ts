/** DTMF in RTP: RFC 4733 telephone-event payloads, the packets of one digit, and their detection. */
export * from './telephone-event.js';
export * from './telephone-event-stream.js';

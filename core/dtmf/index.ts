/** DTMF in its two forms: RFC 4733 telephone-events in RTP and SIP INFO application/dtmf-relay. */
export * from './telephone-event.js';
export * from './telephone-event-stream.js';
export * from './dtmf-relay.js';

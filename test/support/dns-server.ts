import { createSocket, type Socket } from 'node:dgram';

/**
 * A tiny authoritative DNS server over UDP on 127.0.0.1 for tests: answers A, AAAA, SRV and
 * NAPTR from a table (RFC 1035 §4, RFC 2782, RFC 3403 wire formats), so node:dns `Resolver`
 * (c-ares) can resolve end to end without mocks. A name with no records of the asked type
 * answers NOERROR/no data; an unknown name answers NXDOMAIN.
 */
export type DnsRecord =
  | { readonly type: 'A'; readonly address: string }
  | { readonly type: 'AAAA'; readonly address: string }
  | { readonly type: 'SRV'; readonly priority: number; readonly weight: number; readonly port: number; readonly target: string }
  | { readonly type: 'NAPTR'; readonly order: number; readonly preference: number; readonly flags: string;
      readonly service: string; readonly regexp: string; readonly replacement: string };

export type DnsZone = Readonly<Record<string, readonly DnsRecord[]>>;

export interface DnsQueryLog {
  readonly name: string;
  readonly type: string;
}

const TYPE_CODE: Readonly<Record<DnsRecord['type'], number>> = { A: 1, AAAA: 28, SRV: 33, NAPTR: 35 };
const TYPE_NAME = new Map<number, string>(Object.entries(TYPE_CODE).map(([n, c]) => [c, n]));

export class TestDnsServer {
  readonly queries: DnsQueryLog[] = [];
  /** Names answered SERVFAIL (to test that a failing query is survived). */
  readonly failing = new Set<string>();
  #zone: Map<string, DnsRecord[]>;
  #socket: Socket | undefined;
  #port = 0;

  constructor(zone: DnsZone) {
    this.#zone = new Map(Object.entries(zone).map(([name, records]) => [normalize(name), [...records]]));
  }

  get port(): number { return this.#port; }
  /** For `Resolver.setServers()` / NodeDnsLookup `servers`. */
  get server(): string { return `127.0.0.1:${this.#port}`; }

  async start(): Promise<void> {
    const socket = createSocket('udp4');
    this.#socket = socket;
    socket.on('message', (query, rinfo) => {
      const answer = this.#answer(query);
      if (answer) socket.send(answer, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    this.#port = socket.address().port;
  }

  async stop(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  #answer(query: Buffer): Buffer | undefined {
    if (query.length < 12 || query.readUInt16BE(4) < 1) return undefined;
    const [name, afterName] = readName(query, 12);
    const qtype = query.readUInt16BE(afterName);
    const question = query.subarray(12, afterName + 4);
    const key = normalize(name);
    this.queries.push({ name: key, type: TYPE_NAME.get(qtype) ?? String(qtype) });
    const records = this.#zone.get(key);
    let rcode = 0;
    if (this.failing.has(key)) rcode = 2; // SERVFAIL
    else if (!records) rcode = 3; // NXDOMAIN
    const answers = rcode === 0 ? (records ?? []).filter((r) => TYPE_CODE[r.type] === qtype) : [];
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0); // id
    const rd = query.readUInt16BE(2) & 0x0100;
    header.writeUInt16BE(0x8000 | 0x0400 | rd | 0x0080 | rcode, 2); // QR, AA, RD copied, RA
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    return Buffer.concat([header, question, ...answers.map((r) => encodeAnswer(r))]);
  }
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function readName(buf: Buffer, offset: number): [string, number] {
  const labels: string[] = [];
  let i = offset;
  for (;;) {
    const length = buf[i] ?? 0;
    if (length === 0) return [labels.join('.'), i + 1];
    labels.push(buf.toString('latin1', i + 1, i + 1 + length));
    i += 1 + length;
  }
}

function encodeName(name: string): Buffer {
  const parts = normalize(name).split('.').filter((l) => l.length > 0);
  return Buffer.concat([...parts.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])), Buffer.from([0])]);
}

function characterString(text: string): Buffer {
  return Buffer.concat([Buffer.from([Buffer.byteLength(text)]), Buffer.from(text)]);
}

function u16(...values: number[]): Buffer {
  const b = Buffer.alloc(2 * values.length);
  values.forEach((v, i) => b.writeUInt16BE(v, 2 * i));
  return b;
}

function rdata(record: DnsRecord): Buffer {
  switch (record.type) {
    case 'A': return Buffer.from(record.address.split('.').map(Number));
    case 'AAAA': return ipv6Bytes(record.address);
    case 'SRV': return Buffer.concat([u16(record.priority, record.weight, record.port), encodeName(record.target)]);
    case 'NAPTR': return Buffer.concat([
      u16(record.order, record.preference), characterString(record.flags), characterString(record.service),
      characterString(record.regexp), encodeName(record.replacement),
    ]);
  }
}

function encodeAnswer(record: DnsRecord): Buffer {
  const data = rdata(record);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(TYPE_CODE[record.type], 0);
  fixed.writeUInt16BE(1, 2); // class IN
  fixed.writeUInt32BE(60, 4); // TTL
  fixed.writeUInt16BE(data.length, 8);
  // 0xC00C: a compression pointer to the question name at offset 12 (RFC 1035 §4.1.4).
  return Buffer.concat([Buffer.from([0xc0, 0x0c]), fixed, data]);
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return u16(...[...left, ...zeros, ...right].map((g) => parseInt(g, 16)));
}

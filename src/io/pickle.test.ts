import { PickleGlobal, unpickle } from './pickle';

const hex = (s: string): Uint8Array => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));

// pickle.dumps of
// {'a': [1, -2, 2.5, 'xé', b'by', None, True, False, (1, 2), (3,), ()], 'big': 2**70, 'neg': -5,
//  'i32': -100000, 'od': OrderedDict([('k', 1)]), 'set': {3}, 1: 'intkey'}
// by CPython 3.11 with protocols 2 (bytes via _codecs.encode), 4 and 5 (FRAME, MEMOIZE, STACK_GLOBAL).
const PICKLES: Record<string, string> = {
  2: '80027d71002858010000006171015d7102284b014afeffffff474004000000000000580300000078c3a97103635f636f646563730a656e636f64650a710458020000006279710558060000006c6174696e3171068671075271084e88894b014b028671094b0385710a29655803000000626967710b8a0900000000000000004058030000006e6567710c4afbffffff5803000000693332710d4a6079feff58020000006f64710e63636f6c6c656374696f6e730a4f726465726564446963740a710f2952711058010000006b71114b017358030000007365747112635f5f6275696c74696e5f5f0a7365740a71135d71144b03618571155271164b015806000000696e746b65797117752e',
  4: '800495a1000000000000007d94288c0161945d94284b014afeffffff4740040000000000008c0378c3a99443026279944e88894b014b0286944b03859429658c03626967948a090000000000000000408c036e6567944afbffffff8c03693332944a6079feff8c026f64948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c016b944b01738c03736574948f94284b03904b018c06696e746b657994752e',
  5: '800595a1000000000000007d94288c0161945d94284b014afeffffff4740040000000000008c0378c3a99443026279944e88894b014b0286944b03859429658c03626967948a090000000000000000408c036e6567944afbffffff8c03693332944a6079feff8c026f64948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c016b944b01738c03736574948f94284b03904b018c06696e746b657994752e',
};

describe('unpickle (restricted)', () => {
  it.each(Object.keys(PICKLES))('reads plain data written with protocol %s', (protocol) => {
    const v = unpickle(hex(PICKLES[protocol])) as Map<unknown, unknown>;
    expect(v).toBeInstanceOf(Map);
    expect(v.get('a')).toEqual([1, -2, 2.5, 'xé', new Uint8Array([0x62, 0x79]), null, true, false, [1, 2], [3], []]);
    expect(v.get('big')).toBe(2n ** 70n);
    expect(v.get('neg')).toBe(-5);
    expect(v.get('i32')).toBe(-100000);
    expect(v.get('od')).toEqual(new Map([['k', 1]]));
    expect(v.get('set')).toEqual([3]);
    expect(v.get(1)).toBe('intkey');
  });

  it('refuses os.system when it is named, before anything could call it', () => {
    expect(() => unpickle(hex('800263706f7369780a73797374656d0a71002e'))).toThrow(/refused global 'posix\.system'/);
  });

  it('refuses builtins other than plain containers (getattr via STACK_GLOBAL)', () => {
    expect(() => unpickle(hex('80049522000000000000008c086275696c74696e73948c07676574617474729493944b018c017894869452942e'))).toThrow(/refused global 'builtins\.getattr'/);
  });

  it('keeps an uncalled reference to an unknown class as an inert name', () => {
    // pickle.dumps(torch.optim.AdamW, protocol=2)
    const bytes = new Uint8Array([0x80, 0x02, 0x63, ...new TextEncoder().encode('torch.optim.adamw\nAdamW\n'), 0x71, 0x00, 0x2e]);
    const v = unpickle(bytes);
    expect(v).toBeInstanceOf(PickleGlobal);
    expect(String(v)).toBe('torch.optim.adamw.AdamW');
  });

  it('reports truncation, bad memo references and unknown opcodes instead of crashing', () => {
    expect(() => unpickle(hex(PICKLES[2]).subarray(0, 40))).toThrow(/pickle truncated/);
    expect(() => unpickle(hex(PICKLES[4]).subarray(0, 40))).toThrow(/length 161 exceeds the pickle's 40 bytes/);
    expect(() => unpickle(hex('8002680563'))).toThrow(/memo key 5 missing/);
    expect(() => unpickle(hex('8002ff'))).toThrow(/unsupported pickle opcode 0xff/);
    // LONG4 of 100 kB: refused rather than decoded in quadratic time.
    const long4 = new Uint8Array(2 + 5 + 100000 + 1);
    long4.set([0x80, 0x02, 0x8b, 0xa0, 0x86, 0x01, 0x00]);
    long4[long4.length - 1] = 0x2e;
    expect(() => unpickle(long4)).toThrow(/integer of 100000 bytes is too large/);
    // BINUNICODE claiming 4 GB in a 10-byte pickle: an error, not an allocation.
    expect(() => unpickle(hex('800258ffffffff2e'))).toThrow(/needs 4294967295 bytes/);
  });
});

import * as tf from '@tensorflow/tfjs';
import { toOnnxBytes } from '../../src/onnx/onnx_export';
import { DinoVisionTransformer } from '../../src/models/dinov2';
import { MedicalSliceTransformer } from '../../src/models/medical_slice_transformer';
import { createModel } from '../../src/models/registry';

// Decodes the exported bytes with a protobuf reader written here from the wire-format spec and
// checks them against ONNX's field numbers: a round trip of the writer, independent of any runtime.

type Field = { wire: number; value: bigint | Uint8Array | number };

/** The varint at `bytes[at]` and the position after it. */
function readVarint(bytes: Uint8Array, at: number): [bigint, number] {
  let v = 0n;
  let shift = 0n;
  for (;;) {
    const b = bytes[at++];
    v |= BigInt(b & 0x7f) << shift;
    if (!(b & 0x80)) return [v, at];
    shift += 7n;
  }
}

/** One message's fields by number, in order (varints as bigint, fixed32 as float, the rest as bytes). */
function decode(bytes: Uint8Array): Map<number, Field[]> {
  const out = new Map<number, Field[]>();
  let at = 0;
  const varint = (): bigint => {
    const [v, next] = readVarint(bytes, at);
    at = next;
    return v;
  };
  while (at < bytes.length) {
    const tag = Number(varint());
    const field = tag >> 3;
    const wire = tag & 7;
    let value: Field['value'];
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const n = Number(varint());
      value = bytes.subarray(at, at + n);
      at += n;
    } else if (wire === 5) {
      value = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getFloat32(0, true);
      at += 4;
    } else throw new Error(`unexpected wire type ${wire} at byte ${at}`);
    if (!out.has(field)) out.set(field, []);
    (out.get(field) as Field[]).push({ wire, value });
  }
  expect(at).toBe(bytes.length);
  return out;
}

const text = (f: Field): string => new TextDecoder().decode(f.value as Uint8Array);
const all = (m: Map<number, Field[]>, n: number): Field[] => m.get(n) ?? [];
const str = (m: Map<number, Field[]>, n: number): string => text(all(m, n)[0]);
const int = (m: Map<number, Field[]>, n: number): number => Number(all(m, n)[0].value as bigint);
const sub = (f: Field): Map<number, Field[]> => decode(f.value as Uint8Array);
function packed(m: Map<number, Field[]>, n: number): number[] {
  const f = all(m, n)[0];
  if (!f) return [];
  const out: number[] = [];
  const b = f.value as Uint8Array;
  let at = 0;
  while (at < b.length) {
    const [v, next] = readVarint(b, at);
    at = next;
    out.push(Number(BigInt.asIntN(64, v)));
  }
  return out;
}

function valueInfo(f: Field): { name: string; elemType: number; dims: (number | string)[] } {
  const v = sub(f);
  const tensorType = sub(all(sub(all(v, 2)[0]), 1)[0]);
  const dims = all(sub(all(tensorType, 2)[0]), 1).map((d) => {
    const dim = sub(d);
    return dim.has(1) ? int(dim, 1) : str(dim, 2);
  });
  return { name: str(v, 1), elemType: int(tensorType, 1), dims };
}

describe('the exported bytes decode to the ONNX model that was built', () => {
  it('model, graph, value infos, nodes in topological order, initializers equal the weights', async () => {
    const model = new MedicalSliceTransformer({ encoder: new DinoVisionTransformer({ embedDim: 16, depth: 2, numHeads: 2, imgSize: 20, patchSize: 4, seed: 1 }), numClasses: 3, heads: 4, seed: 2 });
    const before = tf.memory().numTensors;
    const bytes = await toOnnxBytes(model, { attention: true, imageSize: [12, 16] });
    expect(tf.memory().numTensors).toBe(before);

    const m = decode(bytes);
    expect(int(m, 1)).toBe(8); // ir_version
    expect(str(m, 2)).toBe('mst-ts'); // producer_name
    const opset = sub(all(m, 8)[0]);
    expect([str(opset, 1), int(opset, 2)]).toEqual(['', 17]);
    const meta = Object.fromEntries(all(m, 14).map((f) => [str(sub(f), 1), str(sub(f), 2)]));
    expect(JSON.parse(meta['mst_ts.config']).options.numClasses).toBe(3);

    const g = sub(all(m, 7)[0]);
    expect(str(g, 2)).toBe('MedicalSliceTransformer');
    const inputs = all(g, 11).map(valueInfo);
    expect(inputs).toEqual([{ name: 'volume', elemType: 1, dims: ['batch', 'slices', 12, 16] }]);
    const outputs = all(g, 12).map(valueInfo);
    expect(outputs.map((o) => o.name)).toEqual(['logits', 'slice_attention_heads', 'slice_attention', 'plane_attention_heads', 'plane_attention', 'saliency']);
    expect(outputs[0].dims).toEqual(['batch', 3]);
    expect(outputs[4].dims).toEqual(['batch', 'slices', 3, 4]);

    const initializers = new Map(
      all(g, 5).map((f) => {
        const t = sub(f);
        const raw = all(t, 9)[0].value as Uint8Array;
        return [str(t, 8), { dims: packed(t, 1), type: int(t, 2), raw }] as const;
      }),
    );
    // PyTorch's layouts and names; Linear weights transposed for MatMul under `<key>.T`.
    const sd = model.stateDict();
    const asFloats = (raw: Uint8Array): Float32Array => new Float32Array(raw.slice().buffer);
    const conv = initializers.get('encoder.patch_embed.proj.weight');
    expect(conv?.dims).toEqual([16, 3, 4, 4]);
    expect(Array.from(asFloats(conv?.raw as Uint8Array))).toEqual(Array.from(await sd['encoder.patch_embed.proj.weight'].data()));
    const qkv = initializers.get('encoder.blocks.1.attn.qkv.weight.T');
    expect(qkv?.dims).toEqual([16, 48]);
    const qkvT = tf.transpose(sd['encoder.blocks.1.attn.qkv.weight']);
    expect(Array.from(asFloats(qkv?.raw as Uint8Array))).toEqual(Array.from(await qkvT.data()));
    qkvT.dispose();
    expect(initializers.get('slice_fusion.layers.0.self_attn.in_proj_weight.T')?.dims).toEqual([16, 48]);
    expect(initializers.get('cls_token')?.dims).toEqual([1, 1, 16]);
    // The positional embedding is stored resized to the 3x4 patch grid of 12x16 slices.
    expect(initializers.get('encoder.pos_embed')?.dims).toEqual([1, 13, 16]);
    expect(initializers.get('encoder.blocks.0.norm1.weight')?.type).toBe(1);
    Object.values(sd).forEach((t) => t.dispose());

    const nodes = all(g, 1).map((f) => {
      const n = sub(f);
      return { inputs: all(n, 1).map(text), outputs: all(n, 2).map(text), name: str(n, 3), op: str(n, 4) };
    });
    const known = new Set<string>(['volume', ...initializers.keys()]);
    for (const n of nodes) {
      for (const i of n.inputs) if (i !== '') expect(known.has(i) ? i : `${n.name} reads undefined '${i}'`).toBe(i);
      n.outputs.forEach((o) => known.add(o));
    }
    expect(new Set(nodes.map((n) => n.name)).size).toBe(nodes.length);
    for (const o of outputs) expect(known.has(o.name)).toBe(true);
    const ops = new Set(nodes.map((n) => n.op));
    for (const op of ['Conv', 'LayerNormalization', 'MatMul', 'Softmax', 'Erf', 'Gather', 'Expand']) expect(ops.has(op)).toBe(true);
    model.dispose();
  });

  it.each([
    ['mst-dinov2-tiny-conv', { imageSize: 16 }, 16],
    ['mst-dinov2-tiny', { imageSize: 40 }, 40],
    ['mst-dinov2-s', {}, 224],
  ] as const)('%s exports at its own slice size by default (DINOv2-S/14 at the paper\'s 224)', async (arch, options, side) => {
    const model = createModel(arch, options);
    const g = sub(all(decode(await toOnnxBytes(model)), 7)[0]);
    expect(all(g, 11).map(valueInfo)[0].dims).toEqual(['batch', 'slices', side, side]);
    model.dispose();
  });
});

import { ProtoWriter } from './protobuf_writer';

/**
 * The ONNX messages mst-ts writes (`onnx/onnx.proto`, IR version 8), as plain objects, and their
 * encoding. Field numbers are ONNX's; only the fields an inference graph needs are covered.
 */

/** `TensorProto.DataType` values used here. */
export const OnnxDataType = { FLOAT: 1, INT64: 7 } as const;
export type OnnxDataType = (typeof OnnxDataType)[keyof typeof OnnxDataType];

/** `AttributeProto.AttributeType` values used here. */
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_FLOATS = 6;
const ATTR_INTS = 7;

/** An initializer or constant: `raw_data` little-endian. */
export interface OnnxTensor {
  name: string;
  dataType: OnnxDataType;
  dims: number[];
  /** float32 or int64 values, in row-major order. */
  data: Float32Array | BigInt64Array;
  docString?: string;
}

/** A node attribute: a number is an int unless `float` is set; arrays are ints unless `floats`. */
export type OnnxAttributeValue = number | string | number[] | { float: number } | { floats: number[] };

/** A graph node. */
export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attributes?: Record<string, OnnxAttributeValue>;
  domain?: string;
}

/** A dimension: a fixed size, or a symbolic name (dynamic). */
export type OnnxDim = number | string;

/** A graph input or output (`ValueInfoProto` of a tensor type). */
export interface OnnxValueInfo {
  name: string;
  elemType: OnnxDataType;
  shape: OnnxDim[];
  docString?: string;
}

/** A graph. */
export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  docString?: string;
}

/** A model: one graph and its operator sets. */
export interface OnnxModel {
  irVersion: number;
  opsetImports: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  graph: OnnxGraph;
  docString?: string;
  metadata?: Record<string, string>;
}

function tensorBytes(data: Float32Array | BigInt64Array): Uint8Array {
  // ONNX raw_data is little-endian, as every platform JavaScript runs on.
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** `TensorProto`: dims = 1, data_type = 2, name = 8, raw_data = 9, doc_string = 12. */
export function encodeTensor(t: OnnxTensor): ProtoWriter {
  const w = new ProtoWriter();
  w.packedInt64(1, t.dims);
  w.int64(2, t.dataType);
  w.string(8, t.name);
  w.bytes(9, tensorBytes(t.data));
  if (t.docString) w.string(12, t.docString);
  return w;
}

/**
 * `AttributeProto`: name = 1, f = 2, i = 3, s = 4, floats = 7, ints = 8, type = 20. Repeated
 * numeric fields are written packed, which proto3 parsers (ONNX's included) accept.
 */
export function encodeAttribute(name: string, value: OnnxAttributeValue): ProtoWriter {
  const w = new ProtoWriter();
  w.string(1, name);
  if (typeof value === 'number') {
    w.int64(3, value).int64(20, ATTR_INT);
  } else if (typeof value === 'string') {
    w.string(4, value).int64(20, ATTR_STRING);
  } else if (Array.isArray(value)) {
    w.packedInt64(8, value).int64(20, ATTR_INTS);
  } else if ('float' in value) {
    w.float(2, value.float).int64(20, ATTR_FLOAT);
  } else {
    w.packedFloat(7, value.floats).int64(20, ATTR_FLOATS);
  }
  return w;
}

/** `NodeProto`: input = 1, output = 2, name = 3, op_type = 4, attribute = 5, domain = 7. */
export function encodeNode(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const [k, v] of Object.entries(n.attributes ?? {})) w.message(5, encodeAttribute(k, v));
  if (n.domain) w.string(7, n.domain);
  return w;
}

/**
 * `ValueInfoProto` (name = 1, type = 2) with `TypeProto` (tensor_type = 1), `TypeProto.Tensor`
 * (elem_type = 1, shape = 2), `TensorShapeProto` (dim = 1) and its `Dimension` (dim_value = 1,
 * dim_param = 2).
 */
export function encodeValueInfo(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int64(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().int64(1, v.elemType).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  const w = new ProtoWriter().string(1, v.name).message(2, type);
  if (v.docString) w.string(3, v.docString);
  return w;
}

/** `GraphProto`: node = 1, name = 2, initializer = 5, doc_string = 10, input = 11, output = 12. */
export function encodeGraph(g: OnnxGraph): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, encodeNode(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, encodeTensor(t));
  if (g.docString) w.string(10, g.docString);
  for (const i of g.inputs) w.message(11, encodeValueInfo(i));
  for (const o of g.outputs) w.message(12, encodeValueInfo(o));
  return w;
}

/**
 * `ModelProto`: ir_version = 1, producer_name = 2, producer_version = 3, doc_string = 6,
 * graph = 7, opset_import = 8 (`OperatorSetIdProto`: domain = 1, version = 2),
 * metadata_props = 14 (`StringStringEntryProto`: key = 1, value = 2).
 *
 * @example
 * const bytes = encodeModel({ irVersion: 8, opsetImports: [{ domain: '', version: 17 }], producerName: 'mst-ts', producerVersion: '0', graph });
 */
export function encodeModel(m: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.int64(1, m.irVersion);
  w.string(2, m.producerName);
  w.string(3, m.producerVersion);
  if (m.docString) w.string(6, m.docString);
  w.message(7, encodeGraph(m.graph));
  for (const o of m.opsetImports) w.message(8, new ProtoWriter().string(1, o.domain).int64(2, o.version));
  for (const [k, v] of Object.entries(m.metadata ?? {})) w.message(14, new ProtoWriter().string(1, k).string(2, v));
  return w.finish();
}

export declare const SHAPE: [number, number, number];
export declare function benchVolume(): Float32Array;
